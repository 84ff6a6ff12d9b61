"""`batchspec render`: stable output on stdout, diagnostics on stderr, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from batchspec.cli.main import main
from tests.conftest import REPO, SPECS, VALID_VERTEX

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    for name in ("BATCHSPEC_PROJECT", "BATCHSPEC_REGION", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_renders_one_spec_as_a_json_object(run: Run) -> None:
    code, out, err = run("render", str(SPECS / "census_mlengine.yaml"))
    assert code == 0 and "warning[BS295 target-retired]" in err  # the body is still shown
    doc = json.loads(out)
    assert doc["target"] == "mlengine"
    assert doc["method"] == "ml.projects.jobs.create"
    assert doc["http"] == "POST https://ml.googleapis.com/v1/projects/acme-ml-legacy/jobs"
    assert doc["parent"] == "projects/acme-ml-legacy"
    assert doc["body"]["jobId"].startswith("census_batch_predict_")
    assert out == json.dumps(doc, indent=2, sort_keys=True) + "\n"  # sorted keys, stable


def test_output_is_byte_for_byte_repeatable(run: Run) -> None:
    first = run("render", str(SPECS))
    second = run("render", str(SPECS))
    assert first == second


def test_several_specs_render_as_a_list_and_name_selects(run: Run) -> None:
    code, out, _ = run("render", str(SPECS / "catalogue_vertex.yaml"))
    assert code == 0
    assert [d["name"] for d in json.loads(out)] == ["catalogue_embeddings", "churn_weekly_rescore"]
    code, out, _ = run(
        "render", str(SPECS / "catalogue_vertex.yaml"), "--name", "churn_weekly_rescore"
    )
    assert json.loads(out)["name"] == "churn_weekly_rescore"


def test_yaml_output_has_one_document_per_spec(run: Run) -> None:
    code, out, _ = run("render", str(SPECS / "catalogue_vertex.yaml"), "-o", "yaml")
    assert code == 0
    docs = list(YAML(typ="safe").load_all(out))
    assert [d["name"] for d in docs] == ["catalogue_embeddings", "churn_weekly_rescore"]
    assert docs[0]["body"]["dedicatedResources"]["startingReplicaCount"] == 4
    code, out, _ = run("render", str(SPECS / "census_mlengine.yaml"), "-o", "yaml")
    doc = YAML(typ="safe").load(out)
    assert doc["body"]["predictionInput"]["batchSize"] == "64"  # int64 stays a string


def test_body_only_prints_the_exact_request(run: Run) -> None:
    code, out, _ = run(
        "render", str(SPECS / "review_sentiment_genai.yaml"), "--target", "vertex", "--body-only"
    )
    assert code == 0
    body = json.loads(out)
    assert body["displayName"] == "review_sentiment_claude"
    code, _, err = run("render", str(SPECS / "catalogue_vertex.yaml"), "--body-only")
    assert code == 1 and "exactly one spec" in err


def test_target_the_spec_cannot_use_is_located_and_prints_nothing(run: Run) -> None:
    code, out, err = run("render", str(SPECS / "catalogue_vertex.yaml"), "--target", "mlengine")
    assert code == 1 and out == ""
    assert "catalogue_vertex.yaml:49:" in err  # churn's BigQuery input format, line 49
    assert (
        "error[BS300 not-for-target] cannot compile for mlengine: mlengine cannot read BIGQUERY"
        in err
    )


def test_invalid_spec_reports_diagnostics(run: Run, write_spec: Callable[..., Path]) -> None:
    path = write_spec(VALID_VERTEX.replace("format: JSONL", "format: JSONLINES"))
    code, out, err = run("render", str(path))
    assert code == 1 and out == ""
    assert "error[BS104" in err and "did you mean `JSONL`?" in err


def test_environment_supplies_project_and_region(
    run: Run, write_spec: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = VALID_VERTEX.replace("  project: proj-123456\n", "").replace(
        "  region: us-central1\n", ""
    )
    path = write_spec(text)
    code, _, err = run("render", str(path))
    assert code == 1
    assert "BS261" in err and "BS210" in err
    monkeypatch.setenv("BATCHSPEC_PROJECT", "env-proj")
    monkeypatch.setenv("BATCHSPEC_REGION", "us-central1")
    code, out, _ = run("render", str(path))
    assert code == 0
    assert json.loads(out)["parent"] == "projects/env-proj/locations/us-central1"


def test_warnings_go_to_stderr_and_do_not_fail(run: Run) -> None:
    code, out, err = run("render", str(SPECS / "census_mlengine.yaml"), "--target", "mlengine")
    assert code == 0 and json.loads(out)["target"] == "mlengine"
    assert [line for line in err.splitlines() if "warning[" in line] == [
        line for line in err.splitlines() if "BS295" in line
    ]
    code, out, err = run(
        "render", str(SPECS / "catalogue_vertex.yaml"), "-n", "catalogue_embeddings"
    )
    assert code == 0 and json.loads(out)


def test_unknown_name_suggests(run: Run) -> None:
    code, _, err = run("render", str(SPECS / "catalogue_vertex.yaml"), "--name", "churn_weekly")
    assert code == 1 and "did you mean `churn_weekly_rescore`?" in err


def test_check_reports_schema_problems(run: Run, write_spec: Callable[..., Path]) -> None:
    text = VALID_VERTEX + (
        "  resources:\n"
        "    machineType: n1-standard-4\n"
        "    accelerator:\n"
        "      type: NVIDIA_TESLA_T5\n"
    )
    path = write_spec(text)
    # validate knows Vertex AI's AcceleratorType values, so the spec is refused
    # before any body is built (BS304 itself: test_conformance).
    code, out, err = run("render", str(path), "--check")
    assert code == 1 and out == ""
    assert "BS271" in err and "NVIDIA_TESLA_T5" in err
    code, out, err = run("render", str(path), "--no-check")
    assert code == 1 and "BS271" in err


def test_render_and_validate_do_not_import_cloud_sdks(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    script = (
        "import sys\n"
        "from batchspec.cli.main import main\n"
        f"main(['render', {str(SPECS)!r}])\n"
        f"main(['render', '--target', 'genai', {str(SPECS)!r}])\n"
        "heavy = [m for m in sys.modules if m.startswith(('google.cloud.', 'google.genai',"
        " 'googleapiclient', 'sklearn', 'onnxruntime'))]\n"
        "print(heavy, file=sys.stderr)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_commands_are_registered(run: Run) -> None:
    code, out, _err = run("--help")  # main returns argparse's exit code
    assert code == 0 and "render" in out
    from batchspec.cli.main import build_parser

    help_text = build_parser().format_help()
    assert "render" in help_text and "import" in help_text


def test_a_model_renders_its_upload_before_the_job_that_runs_it(run: Run) -> None:
    example = REPO / "docs" / "examples" / "model_and_job.yaml"
    code, out, err = run("render", str(example), "--check")
    assert code == 0 and err == ""
    model, job = json.loads(out)
    assert model["kind"] == "Model"
    assert model["method"] == "aiplatform.projects.locations.models.upload"
    assert model["http"].endswith("/v1/projects/acme-ml-prod/locations/us-central1/models:upload")
    assert model["body"]["modelId"] == "review_classifier"
    assert job["body"]["model"] == model["version"]
    assert model["version"].endswith("@" + model["body"]["model"]["versionAliases"][0])
