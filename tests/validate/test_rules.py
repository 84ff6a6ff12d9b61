"""Each rule from the services, shown to fire and to stay quiet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from batchspec.model.enums import Severity
from tests.validate.helpers import DROP, check, codes, document

LONG = "a" * 129

# (id, target, name, patch, code, path)
CASES: list[tuple[str, str, str, dict[str, Any], str, str]] = [
    ("name-charset", "vertex", "bad-name", {}, "BS201", "metadata.name"),
    ("name-starts-digit", "vertex", "9job", {}, "BS201", "metadata.name"),
    ("name-too-long", "vertex", LONG, {}, "BS202", "metadata.name"),
    ("mle-region", "mlengine", "j", {"region": "europe-west4"}, "BS211", "spec.region"),
    ("vertex-region", "vertex", "j", {"region": "us-centrall"}, "BS211", "spec.region"),
    ("mle-csv-input", "mlengine", "j", {"input.format": "CSV"}, "BS220", "spec.input.format"),
    (
        "mle-tfrecord-output",
        "mlengine",
        "j",
        {"output.format": "TF_RECORD"},
        "BS220",
        "spec.output.format",
    ),
    ("genai-csv", "genai", "j", {"input.format": "CSV"}, "BS220", "spec.input.format"),
    ("vertex-text", "vertex", "j", {"input.format": "TEXT"}, "BS220", "spec.input.format"),
    (
        "two-inputs",
        "vertex",
        "j",
        {"input.bigquery": "bq://proj-123456.ds.table"},
        "BS230",
        "spec.input",
    ),
    ("no-input", "vertex", "j", {"input.paths": DROP}, "BS230", "spec.input"),
    (
        "bq-needs-format",
        "vertex",
        "j",
        {"input.paths": DROP, "input.bigquery": "bq://proj-123456.ds.table"},
        "BS230",
        "spec.input.format",
    ),
    (
        "bq-uri",
        "vertex",
        "j",
        {"input.paths": DROP, "input.format": "BIGQUERY", "input.bigquery": "proj.ds.t"},
        "BS230",
        "spec.input.bigquery",
    ),
    (
        "local-path-on-cloud",
        "vertex",
        "j",
        {"input.paths": ["data/x.jsonl"]},
        "BS231",
        "spec.input.paths[0]",
    ),
    (
        "two-stars",
        "mlengine",
        "j",
        {"input.paths": ["gs://bucket/*/x*"]},
        "BS232",
        "spec.input.paths[0]",
    ),
    (
        "mid-star",
        "mlengine",
        "j",
        {"input.paths": ["gs://bucket/a*b"]},
        "BS232",
        "spec.input.paths[0]",
    ),
    ("qmark", "local", "j", {"input.paths": ["data/?.jsonl"]}, "BS232", "spec.input.paths[0]"),
    (
        "both-field-lists",
        "vertex",
        "j",
        {"input.includedFields": ["a"], "input.excludedFields": ["b"]},
        "BS233",
        "spec.input.excludedFields",
    ),
    (
        "key-on-text",
        "local",
        "j",
        {"input.format": "TEXT", "input.keyField": "id"},
        "BS233",
        "spec.input.keyField",
    ),
    ("model-location", "vertex", "j", {"region": "europe-west4"}, "BS302", "spec.model.resource"),
    ("two-outputs", "vertex", "j", {"output.bigquery": "bq://proj-123456"}, "BS240", "spec.output"),
    ("no-output", "vertex", "j", {"output.path": DROP}, "BS240", "spec.output"),
    (
        "bq-output-format",
        "vertex",
        "j",
        {"output.path": DROP, "output.bigquery": "bq://proj-123456"},
        "BS240",
        "spec.output.format",
    ),
    (
        "local-output-on-cloud",
        "vertex",
        "j",
        {"output.path": "/tmp/out"},
        "BS241",
        "spec.output.path",
    ),
    ("output-star", "local", "j", {"output.path": "out/*"}, "BS241", "spec.output.path"),
    (
        "two-models",
        "vertex",
        "j",
        {"model.publisher": "publishers/google/models/gemini-2.0-flash"},
        "BS250",
        "spec.model",
    ),
    ("no-model", "vertex", "j", {"model": {}}, "BS250", "spec.model"),
    (
        "model-for-target",
        "mlengine",
        "j",
        {"model": {"publisher": "publishers/google/models/x"}},
        "BS251",
        "spec.model.publisher",
    ),
    (
        "local-needs-local-model",
        "local",
        "j",
        {"model": {"name": "census"}},
        "BS251",
        "spec.model.name",
    ),
    (
        "version-without-name",
        "mlengine",
        "j",
        {"model": {"uri": "gs://b/m", "version": "v1"}},
        "BS252",
        "spec.model.version",
    ),
    (
        "bad-resource",
        "vertex",
        "j",
        {"model": {"resource": "models/1"}},
        "BS254",
        "spec.model.resource",
    ),
    ("uri-not-gcs", "mlengine", "j", {"model": {"uri": "s3://b/m"}}, "BS254", "spec.model.uri"),
    (
        "bad-callable",
        "local",
        "j",
        {"model.local": {"runner": "python", "callable": "pkg.mod.predict"}},
        "BS254",
        "spec.model.local.callable",
    ),
    (
        "bad-sha",
        "local",
        "j",
        {"model.local": {"runner": "onnx", "path": "m.onnx", "sha256": "xyz"}},
        "BS254",
        "spec.model.local.sha256",
    ),
    (
        "unpinned-pickle",
        "local",
        "j",
        {"model.local": {"runner": "sklearn", "path": "m.joblib"}},
        "BS280",
        "spec.model.local",
    ),
    (
        "label-uppercase",
        "vertex",
        "j",
        {},
        "BS260",
        "metadata.labels.Team",
    ),
    (
        "accelerator-without-machine",
        "vertex",
        "j",
        {"resources.accelerator": {"type": "NVIDIA_TESLA_T4"}},
        "BS270",
        "spec.resources.accelerator",
    ),
    (
        "replicas-inverted",
        "vertex",
        "j",
        {"resources": {"machineType": "n1-standard-4", "replicaCount": 4, "maxReplicaCount": 2}},
        "BS270",
        "spec.resources.maxReplicaCount",
    ),
    ("deadline", "vertex", "j", {"policy.deadline": "6 hours"}, "BS290", "spec.policy.deadline"),
]


@pytest.mark.parametrize(
    ("target", "name", "patch", "code", "path"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_rule_fires(
    tmp_path: Path, target: str, name: str, patch: dict[str, Any], code: str, path: str
) -> None:
    doc = document(target, name, **patch)
    if code == "BS260":
        doc["metadata"]["labels"] = {"Team": "growth"}
    found = check(tmp_path, doc)
    assert (code, path) in [(d.code, d.pointer) for d in found], found
    hit = next(d for d in found if d.code == code and d.pointer == path)
    assert hit.line is not None and hit.column is not None
    assert hit.is_error


@pytest.mark.parametrize("target", ["local", "vertex", "genai"])
def test_base_documents_are_clean(tmp_path: Path, target: str) -> None:
    assert check(tmp_path, document(target)) == []


def test_ml_engine_specs_warn_that_the_service_is_gone(tmp_path: Path) -> None:
    """The spec stays valid (it compiles, renders, ports) but every check says
    the service was shut down and how to move to Vertex AI."""
    found = check(tmp_path, document("mlengine"))
    assert codes(found) == ["BS295"]
    warning = found[0]
    assert warning.severity is Severity.WARNING and warning.pointer == "spec.target"
    assert "2025-01-31" in warning.message and "--allow-retired" in warning.message
    assert warning.hint is not None
    assert "render SPEC --target vertex" in warning.hint and "batchspec import" in warning.hint
    assert "cloud.google.com/ai-platform/prediction/docs/deprecations" in warning.hint
    assert warning.line is not None and warning.column is not None


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    from batchspec.validate import validate_paths
    from tests.validate.helpers import dump

    (tmp_path / "a.yaml").write_text(dump(document("vertex", "same")))
    (tmp_path / "b.yaml").write_text(dump(document("genai", "same")))
    result = validate_paths([str(tmp_path)])
    dup = [d for d in result.diagnostics if d.code == "BS203"]
    assert len(dup) == 1
    assert dup[0].file.endswith("b.yaml") and "a.yaml" in dup[0].message
    assert [s.name for s in result.specs] == ["same"]


def test_duplicate_names_in_one_file(tmp_path: Path) -> None:
    found = check(tmp_path, document("vertex", "twin"), document("vertex", "twin"))
    assert codes(found) == ["BS203"]
    assert found[0].document == 1


def test_runtime_version_with_deployed_model_warns(tmp_path: Path) -> None:
    found = check(tmp_path, document("mlengine", runtimeVersion="2.11"))
    assert sorted(codes(found)) == ["BS253", "BS295"]
    assert all(d.severity is Severity.WARNING for d in found)


def test_runtime_version_with_model_uri_is_fine(tmp_path: Path) -> None:
    doc = document("mlengine", runtimeVersion="2.11", model={"uri": "gs://bucket/m"})
    assert codes(check(tmp_path, doc)) == ["BS295"]


def test_settings_other_targets_ignore_warn(tmp_path: Path) -> None:
    found = check(tmp_path, document("vertex", signatureName="serving_default"))
    assert codes(found) == ["BS253"]
    found = check(tmp_path, document("vertex", **{"resources.batchSize": 32}))
    assert codes(found) == ["BS253"]


def test_reserved_labels_are_refused(tmp_path: Path) -> None:
    doc = document("local")
    doc["metadata"]["labels"] = {"batchspec-fp": "abc"}
    assert codes(check(tmp_path, doc)) == ["BS260"]


def test_rules_still_run_when_structure_is_wrong(tmp_path: Path) -> None:
    doc = document("mlengine", "bad-name", region="europe-west4", maxWorkers=3)
    found = codes(check(tmp_path, doc))
    assert {"BS101", "BS201", "BS211"} <= set(found)
