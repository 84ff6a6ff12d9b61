"""ML Engine job bodies (JSON): create requests, described jobs, lists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruamel.yaml import YAML

from batchspec.compile import compile_spec, strip_identity
from batchspec.migrate import MigrationError, import_text
from batchspec.model.enums import Target

BODY: dict[str, Any] = {
    "jobId": "census_20180101",
    "labels": {"team": "census"},
    "predictionInput": {
        "dataFormat": "JSON",
        "inputPaths": ["gs://bucket/in/*"],
        "outputPath": "gs://bucket/out/",
        "region": "us-east1",
        "modelName": "projects/legacy/models/census",
        "batchSize": "32",
        "outputDataFormat": "CSV",
    },
}
DESCRIBED = {
    **BODY,
    "state": "SUCCEEDED",
    "createTime": "2018-01-01T12:00:00Z",
    "startTime": "2018-01-01T12:01:00Z",
    "endTime": "2018-01-01T12:30:00Z",
    "etag": "abc=",
    "predictionOutput": {"predictionCount": "1000", "outputPath": "gs://bucket/out/"},
}


def problems(value: Any) -> list[tuple[str, str]]:
    with pytest.raises(MigrationError) as caught:
        import_text(json.dumps(value))
    return [(p.where, p.message) for p in caught.value.problems]


def test_body_imports_and_compiles_back() -> None:
    [job] = import_text(json.dumps(BODY)).jobs
    spec = job.spec.spec
    assert job.spec.name == "census_20180101" and spec.project == "legacy"
    assert spec.model.name == "census" and spec.output.format == "CSV"
    core = strip_identity(Target.MLENGINE, compile_spec(job.spec, env={}).body, name=job.spec.name)
    assert core["predictionInput"] == {
        **BODY["predictionInput"],
        "maxWorkerCount": "10",  # the service default, written out
    }
    assert core["labels"] == {"team": "census"}


def test_described_job_drops_output_only_fields_with_a_note() -> None:
    result = import_text(json.dumps(DESCRIBED), source="job.json")
    assert "dropped output-only fields of a past run: createTime, startTime, endTime, state," in (
        " ".join(line.lstrip("# ") for line in result.yaml.splitlines())
    )
    assert result.jobs[0].spec.name == "census_20180101"


def test_list_of_jobs_becomes_one_document_each() -> None:
    other = json.loads(json.dumps(BODY))
    other["jobId"] = "second"
    other["predictionInput"]["versionName"] = "projects/legacy/models/census/versions/v1"
    del other["predictionInput"]["modelName"]
    result = import_text(json.dumps([BODY, other]))
    docs = list(YAML(typ="safe").load_all(result.yaml))
    assert [d["metadata"]["name"] for d in docs] == ["census_20180101", "second"]
    assert docs[1]["spec"]["model"] == {"name": "census", "version": "v1"}
    assert result.yaml.startswith("---") or result.yaml.count("\n---") >= 1


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        ({"frobnicate": 1}, "frobnicate", "unknown field of an ML Engine Job"),
        (
            {"predictionInput": {**BODY["predictionInput"], "accelerator": {}}},
            "predictionInput.accelerator",
            "unknown field",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "dataFormat": "CSV"}},
            "predictionInput.dataFormat",
            "CSV is output-only",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "dataFormat": None}},
            "predictionInput.dataFormat",
            "required",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "outputDataFormat": "TF_RECORD"}},
            "predictionInput.outputDataFormat",
            "input-only",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "inputPaths": "gs://bucket"}},
            "predictionInput.inputPaths",
            "non-empty list",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "outputPath": 3}},
            "predictionInput.outputPath",
            "expected a string",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "batchSize": "lots"}},
            "predictionInput.batchSize",
            "int64",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "maxWorkerCount": True}},
            "predictionInput.maxWorkerCount",
            "int64",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "modelName": "census"}},
            "predictionInput.modelName",
            "projects/P/models/M",
        ),
        (
            {"predictionInput": {**BODY["predictionInput"], "uri": "gs://m"}},
            "predictionInput",
            "exactly one of",
        ),
        ({"jobId": None}, "jobId", "missing"),
        ({"labels": {"a": 1}}, "labels", "strings to strings"),
        ({"predictionInput": None, "trainingInput": {}}, "trainingInput", "a training job"),
        ({"jobId": "1job"}, "jobId", "start with a letter"),
        ({"labels": {"Team": "x"}}, "labels", "label key 'Team'"),
        (
            {"predictionInput": {**BODY["predictionInput"], "region": "mars-1"}},
            "predictionInput.region",
            "does not run",
        ),
    ],
)
def test_malformed_bodies_name_the_field(change: dict[str, Any], where: str, words: str) -> None:
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    found = problems(body)
    assert any(w == where and words in m for w, m in found), found


def test_list_problems_carry_the_index() -> None:
    bad = json.loads(json.dumps(BODY))
    bad["predictionInput"]["region"] = 5
    found = problems([BODY, bad])
    assert found == [("[1].predictionInput.region", "expected a string, got 5")]


def test_not_json() -> None:
    found = problems_text('{"jobId": ')
    assert found[0][0].startswith("line 1 column")


def problems_text(text: str) -> list[tuple[str, str]]:
    with pytest.raises(MigrationError) as caught:
        import_text(text, kind="json")
    return [(p.where, p.message) for p in caught.value.problems]


@pytest.mark.parametrize("text", ["[]", "3", "[1]", "   "])
def test_not_a_job(text: str) -> None:
    assert problems_text(text)


def test_duplicate_names_in_a_list() -> None:
    assert problems([BODY, BODY]) == [("[1].jobId", "job name 'census_20180101' repeats")]


def test_project_option_with_a_model_in_another_project() -> None:
    [job] = import_text(json.dumps(BODY), project="new-home").jobs
    assert job.spec.spec.project == "new-home"
    assert job.spec.spec.model.name == "projects/legacy/models/census"
    body = compile_spec(job.spec, env={}).body
    assert body["predictionInput"]["modelName"] == "projects/legacy/models/census"


def test_name_option_renames_one_job_only() -> None:
    assert import_text(json.dumps(BODY), name="renamed").jobs[0].spec.name == "renamed"
    with pytest.raises(MigrationError, match="renames one job"):
        import_text(json.dumps([BODY, {**BODY, "jobId": "b"}]), name="x")


def test_written_yaml_keeps_comments_and_is_a_valid_spec(tmp_path: Any) -> None:
    from batchspec.validate import validate_paths

    result = import_text(json.dumps(DESCRIBED), source="job.json")
    path = tmp_path / "job.yaml"
    path.write_text(result.yaml)
    loaded = YAML(typ="rt").load(result.yaml)
    assert "Imported by `batchspec import` from job.json" in loaded.ca.comment[1][0].value
    validated = validate_paths([str(path)])
    assert validated.ok and validated.specs[0].name == "census_20180101"
