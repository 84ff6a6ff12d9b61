"""gcloud command lines: the flags gcloud takes, its rules, and clear errors."""

from __future__ import annotations

import pytest

from batchspec.migrate import MigrationError, import_text
from batchspec.model.enums import DataFormat

BASE = (
    "gcloud ai-platform jobs submit prediction my_job --model census"
    " --input-paths gs://bucket/in/* --output-path gs://bucket/out/ --region us-central1"
    " --data-format text --project acme-ml"
)


def spec_of(text: str, **kwargs: object):  # type: ignore[no-untyped-def]
    [job] = import_text(text, kind="gcloud", **kwargs).jobs  # type: ignore[arg-type]
    return job.spec.spec


def problems(text: str, **kwargs: object) -> list[tuple[str, str]]:
    with pytest.raises(MigrationError) as caught:
        import_text(text, kind="gcloud", **kwargs)  # type: ignore[arg-type]
    return [(p.where, p.message) for p in caught.value.problems]


def test_every_flag_lands_in_the_spec() -> None:
    spec = spec_of(
        "gcloud beta ml-engine jobs submit prediction my_job --model=census --version v3"
        " --input-paths 'gs://bucket/a/*,gs://bucket/c.json' --output-path gs://bucket/out/"
        " --region us-east1"
        " --data-format tf-record-gzip --max-worker-count 7 --batch-size=128"
        " --runtime-version 1.15 --signature-name serving_v2 --labels team=census,env=prod"
        " --project acme-ml --quiet --format=json --verbosity debug"
    )
    assert spec.project == "acme-ml" and spec.region == "us-east1"
    assert (spec.model.name, spec.model.version) == ("census", "v3")
    assert spec.input.format is DataFormat.TF_RECORD_GZIP
    assert spec.input.paths == ["gs://bucket/a/*", "gs://bucket/c.json"]
    assert spec.resources.max_worker_count == 7 and spec.resources.batch_size == 128
    assert spec.runtime_version == "1.15" and spec.signature_name == "serving_v2"


def test_labels_and_model_dir() -> None:
    [job] = import_text(
        BASE.replace("--model census", "--model-dir gs://models/census/") + " --labels a=1,b=",
        kind="gcloud",
    ).jobs
    assert job.spec.metadata.labels == {"a": "1", "b": ""}
    assert job.spec.spec.model.uri == "gs://models/census/"


@pytest.mark.parametrize(
    ("flag", "fmt"),
    [
        ("text", "TEXT"),
        ("tf-record", "TF_RECORD"),
        ("TF_RECORD_GZIP", "TF_RECORD_GZIP"),
        ("json", "JSONL"),
    ],
)
def test_data_formats(flag: str, fmt: str) -> None:
    assert spec_of(BASE.replace("--data-format text", f"--data-format {flag}")).input.format == fmt


def test_project_comes_from_the_option_when_the_command_has_none() -> None:
    command = BASE.replace(" --project acme-ml", "")
    assert spec_of(command, project="other-proj").project == "other-proj"
    [job] = import_text(command, kind="gcloud").jobs
    assert job.spec.spec.project is None
    assert "project: the source does not say" in import_text(command, kind="gcloud").yaml


def test_full_model_resource_from_another_project_is_kept_whole() -> None:
    spec = spec_of(BASE.replace("--model census", "--model projects/shared/models/census"))
    assert spec.model.name == "projects/shared/models/census" and spec.project == "acme-ml"


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (("--model census", "--model-dir gs://m --model census"), "--model-dir", "not both"),
        (
            ("--model census", "--model-dir gs://m --version v1"),
            "--version",
            "only allowed with --model",
        ),
        (("--model census", ""), "--model", "one of --model or --model-dir is required"),
        (("--region us-central1", ""), "--region", "required flag is missing"),
        (
            ("--data-format text", "--data-format csv"),
            "--data-format",
            "'csv' is not a data format",
        ),
        (("--data-format text", "--data-format"), "--data-format", "needs a value"),
        ((" --project acme-ml", " --max-worker-count ten"), "--max-worker-count", "whole number"),
        ((" --project acme-ml", " --batch-size 0"), "--batch-size", "at least 1"),
        ((" --project acme-ml", " --labels team"), "--labels", "not KEY=VALUE"),
        ((" --project acme-ml", " --frobnicate 3"), "--frobnicate", "unknown flag"),
        ((" --project acme-ml", " --mdoel x"), "--mdoel", "unknown flag"),
        (
            (" --project acme-ml", " --accelerator-type nvidia-tesla-k80"),
            "--accelerator-type",
            "not supported",
        ),
        ((" --project acme-ml", " --region us-east1"), "--region", "given twice"),
        (("gs://bucket/in/*", "gs://bucket/in/*,,gs://c-bucket"), "--input-paths", "empty path"),
        (("prediction my_job", "training my_job"), "command", "is not"),
        (("prediction my_job", "prediction"), "JOB", "missing"),
        (("my_job", "my_job extra"), "extra", "unexpected argument"),
        (("my_job", "my-job"), "JOB", "letters, digits and underscores"),
        (("us-central1", "europe-west4"), "--region", "does not run batch prediction"),
        (("gs://bucket/in/*", "gs://bucket/*/in"), "--input-paths", "in the last path segment"),
        (("gs://bucket/out/", "/tmp/out"), "--output-path", "Cloud Storage only"),
    ],
)
def test_bad_command_lines_name_the_flag(change: tuple[str, str], where: str, words: str) -> None:
    found = problems(BASE.replace(*change))
    assert any(w == where and words in m for w, m in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        "gcloud ml-engine jobs submit prediction j --model-dir gs://m --version v"
        " --data-format csv --max-worker-count 0"
    )
    assert {w for w, _ in found} >= {
        "--version",
        "--data-format",
        "--max-worker-count",
        "--input-paths",
        "--output-path",
        "--region",
    }


def test_error_message_is_readable() -> None:
    with pytest.raises(MigrationError) as caught:
        import_text(BASE.replace("text", "csv"), kind="gcloud")
    assert str(caught.value).splitlines() == [
        "cannot import gcloud command: 1 problem(s)",
        "  --data-format: 'csv' is not a data format",
        "      hint: one of: text, tf-record, tf-record-gzip",
    ]


# --- the script around the command -------------------------------------------------


def test_script_variables_continuations_and_comments() -> None:
    script = """\
# seed 001 style
export MODEL_NAME=census
REGION='us-central1'
PATHS="gs://bucket/a/*,gs://bucket/c"
gcloud ml-engine jobs submit prediction "${MODEL_NAME}_batch" \\
    --model $MODEL_NAME \\
    --input-paths "$PATHS" --output-path gs://bucket/out/ \\
    --region $REGION --data-format text --project acme-ml  # trailing comment
echo done
"""
    spec = spec_of(script)
    assert spec.model.name == "census" and spec.region == "us-central1"
    assert spec.input.paths == ["gs://bucket/a/*", "gs://bucket/c"]


def test_set_overrides_the_script_and_fills_gaps() -> None:
    script = "M=census\nJOB=$(date)\n" + BASE.replace("my_job", "$JOB").replace(
        "--model census", "--model $M"
    )
    assert problems(script)[0][1] == "$JOB is set by a command batchspec does not run"
    [job] = import_text(script, kind="gcloud", variables={"JOB": "nightly", "M": "other"}).jobs
    assert job.spec.name == "nightly" and job.spec.spec.model.name == "other"


def test_unset_variables_and_substitutions_are_errors() -> None:
    assert problems(BASE.replace("census", "$MODEL")) == [("line 1", "$MODEL is not set")]
    assert "command substitution" in problems(BASE.replace("my_job", "job_$(date +%s)"))[0][1]
    assert "backticks" in problems(BASE.replace("my_job", "job_`date`"))[0][1]


def test_single_quotes_do_not_expand() -> None:
    assert (
        spec_of(BASE.replace("gs://bucket/out/", "'gs://bucket/$out/'")).output.path
        == "gs://bucket/$out/"
    )
    assert (
        spec_of("O=x\n" + BASE.replace("gs://bucket/out/", '"gs://bucket/$O/"')).output.path
        == "gs://bucket/x/"
    )


def test_one_gcloud_command_is_expected() -> None:
    assert "no `gcloud` command" in problems("echo hello")[0][1]
    assert "2 gcloud commands" in problems(BASE + "\n" + BASE)[0][1]
    assert spec_of("cd /tmp && " + BASE + "; echo ok").project == "acme-ml"


def test_unbalanced_quotes() -> None:
    assert "cannot split" in problems(BASE + " --labels 'a=b")[0][1]
