"""`kind: Model` documents: structure and rules per kind, references across
documents (dangling, cycles, locations) located at file:line:col, and the
`models.upload` request they compile into."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchspec.compile import compile_paths
from batchspec.compile.conformance import model_conformance_diagnostics
from batchspec.testing.specs import PROJECT, REGION, model_doc, spec_doc
from batchspec.validate import validate_paths
from tests.validate.helpers import codes, dump

LOCATION = f"projects/{PROJECT}/locations/{REGION}"


def job_using(model: str, name: str = "scores", target: str = "vertex") -> dict[str, Any]:
    return spec_doc(name, target, merge=False, model={"ref": model})


def write(tmp_path: Path, *docs: dict[str, Any]) -> Path:
    path = tmp_path / "specs.yaml"
    path.write_text(dump(*docs))
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing `needle`."""
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if needle in text:
            return number
    raise AssertionError(needle)


def test_a_model_and_a_job_using_it_validate_together(tmp_path: Path) -> None:
    result = validate_paths([str(write(tmp_path, model_doc("reviews"), job_using("reviews")))])
    assert result.diagnostics == []
    assert [m.name for m in result.models] == ["reviews"]
    assert [s.name for s in result.specs] == ["scores"]


def test_a_dangling_ref_is_an_error_where_it_is_written(tmp_path: Path) -> None:
    path = write(tmp_path, model_doc("reviews"), job_using("reveiws"))
    result = validate_paths([str(path)])
    (d,) = [d for d in result.diagnostics if d.code == "BS402"]
    assert d.file == str(path) and d.line == line_of(path, "ref: reveiws")
    assert d.column is not None and d.column > 1
    assert "reviews" in (d.hint or "")  # did you mean
    assert result.specs == []  # the job is not valid


def test_parent_references_in_a_circle_are_refused(tmp_path: Path) -> None:
    a = model_doc("model_a", parentModel={"ref": "model_b"})
    b = model_doc("model_b", parentModel={"ref": "model_a"})
    path = write(tmp_path, a, b)
    result = validate_paths([str(path)])
    cycle = [d for d in result.diagnostics if d.code == "BS403"]
    assert cycle and all(d.line is not None and d.file == str(path) for d in cycle)
    assert result.models == []


def test_duplicate_model_names_are_refused(tmp_path: Path) -> None:
    result = validate_paths([str(write(tmp_path, model_doc("m"), model_doc("m")))])
    assert "BS401" in codes(result.diagnostics)


def test_container_rules_come_from_the_service(tmp_path: Path) -> None:
    bad = model_doc(
        "m",
        container={"imageUri": "x:1", "predictRoute": "predict", "env": {"1BAD": "v"}},
        artifactUri="/local/folder",
    )
    found = codes(validate_paths([str(write(tmp_path, bad))]).diagnostics)
    assert found.count("BS405") >= 2 and "BS406" in found


def test_the_upload_request_is_exact_and_conforms(tmp_path: Path) -> None:
    doc = model_doc(
        "reviews",
        labels={"team": "nlp"},
        encryptionKeyName=f"{LOCATION}/keyRings/r/cryptoKeys/k",
        container={
            "imageUri": "us-docker.pkg.dev/p/r/s:1",
            "command": ["serve"],
            "args": ["--port=8081"],
            "env": {"MODEL_NAME": "reviews"},
            "ports": [8081],
            "predictRoute": "/p",
            "healthRoute": "/h",
        },
    )
    out = compile_paths([str(write(tmp_path, doc, job_using("reviews")))], conformance=True)
    assert out.ok and out.diagnostics == []
    (model,) = out.models
    body = dict(model.body)
    assert body["modelId"] == "reviews" and "parentModel" not in body
    assert body["model"]["containerSpec"] == {
        "imageUri": "us-docker.pkg.dev/p/r/s:1",
        "command": ["serve"],
        "args": ["--port=8081"],
        "env": [{"name": "MODEL_NAME", "value": "reviews"}],
        "ports": [{"containerPort": 8081}],
        "predictRoute": "/p",
        "healthRoute": "/h",
    }
    assert body["model"]["encryptionSpec"] == {"kmsKeyName": f"{LOCATION}/keyRings/r/cryptoKeys/k"}
    assert body["model"]["labels"]["team"] == "nlp"
    assert body["model"]["labels"]["batchspec-model"] == "reviews"
    assert body["model"]["versionAliases"] == [model.alias]
    assert model_conformance_diagnostics(model) == []
    (job,) = out.jobs
    assert job.body["model"] == f"{LOCATION}/models/reviews@{model.alias}"
    assert job.model_ref == "reviews"


def test_a_new_model_revision_changes_the_jobs_fingerprint(tmp_path: Path) -> None:
    first = compile_paths([str(write(tmp_path, model_doc("m"), job_using("m")))])
    changed = model_doc("m", artifactUri="gs://bucket/models/m-v2/")
    second = compile_paths([str(write(tmp_path, changed, job_using("m")))])
    assert first.models[0].fingerprint != second.models[0].fingerprint
    assert first.jobs[0].fingerprint != second.jobs[0].fingerprint
    assert first.jobs[0].body["model"] != second.jobs[0].body["model"]


def test_a_version_under_a_parent_document_goes_under_its_model(tmp_path: Path) -> None:
    child = model_doc("child", parentModel={"ref": "base"})
    out = compile_paths([str(write(tmp_path, child, model_doc("base")))], select=["child"])
    assert [m.name for m in out.models] == ["base", "child"]  # parents first
    base, kid = out.models
    assert kid.body["parentModel"] == base.resource and "modelId" not in kid.body
    assert kid.requires == ("base",)


def test_a_local_job_runs_the_models_container(tmp_path: Path) -> None:
    path = write(tmp_path, model_doc("m"), job_using("m", target="local"))
    out = compile_paths([str(path)], targets=["local"])
    (job,) = out.jobs
    local = job.spec.spec.model.local
    assert local is not None and local.runner == "container"
    assert local.host_command == ["python", "server.py"]
    assert out.models == []  # a local job needs no upload
