"""The discovery-document converter rejects what Google's services reject.

These tests show the checker is not a rubber stamp: unknown fields, wrong enum
values, wrong types, int64 sent as numbers, output-only fields and missing
required fields all fail.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from batchspec.compile import discovery
from batchspec.compile.discovery import (
    find_method,
    match_path,
    request_problems,
    schema_problems,
    to_json_schema,
)

ML_CREATE = "ml.projects.jobs.create"
VERTEX_CREATE = "aiplatform.projects.locations.batchPredictionJobs.create"
ML_JOB = {
    "jobId": "census_1",
    "labels": {"team": "census"},
    "predictionInput": {
        "dataFormat": "JSON",
        "inputPaths": ["gs://b/in/*"],
        "outputPath": "gs://b/out/",
        "region": "us-central1",
        "modelName": "projects/p/models/census",
        "maxWorkerCount": "10",
        "batchSize": "64",
    },
}
VERTEX_JOB: dict[str, Any] = {
    "displayName": "scores",
    "model": "projects/p/locations/us-central1/models/123",
    "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://b/in/*"]}},
    "outputConfig": {
        "predictionsFormat": "jsonl",
        "gcsDestination": {"outputUriPrefix": "gs://o/"},
    },
    "dedicatedResources": {
        "machineSpec": {
            "machineType": "n1-standard-4",
            "acceleratorType": "NVIDIA_TESLA_T4",
            "acceleratorCount": 1,
        },
        "startingReplicaCount": 2,
        "maxReplicaCount": 2,
    },
    "manualBatchTuningParameters": {"batchSize": 64},
}


def ml(body: Any) -> list[str]:
    return [str(p) for p in request_problems("ml", "v1", ML_CREATE, body)]


def vertex(body: Any) -> list[str]:
    return [str(p) for p in request_problems("aiplatform", "v1", VERTEX_CREATE, body)]


def changed(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def test_documents_come_from_the_installed_client_library() -> None:
    folder = discovery.documents_dir()
    assert folder.parts[-3:] == ("googleapiclient", "discovery_cache", "documents")
    assert (folder / "ml.v1.json").is_file()
    assert "site-packages" in str(folder) or Path(folder).exists()


def test_valid_bodies_pass() -> None:
    assert ml(ML_JOB) == []
    assert vertex(VERTEX_JOB) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("predictionInput", "frobnicate"), 1, "unknown field `frobnicate`"),
        (("predictionInput", "dataFormat"), "JSONL", "is not one of"),
        (("predictionInput", "dataFormat"), "DATA_FORMAT_UNSPECIFIED", "is not one of"),
        (("predictionInput", "maxWorkerCount"), 10, "int64 encoded as a JSON string"),
        (("predictionInput", "batchSize"), "sixty-four", "is not an int64"),
        (("predictionInput", "inputPaths"), "gs://b/in/*", "is not of type 'array'"),
        (("predictionInput", "inputPaths"), [3], "is not of type 'string'"),
        (("labels",), {"team": 1}, "is not of type 'string'"),
        (("state",), "QUEUED", "`state` is output only"),
    ],
)
def test_ml_engine_checker_rejects(path: tuple[str, ...], value: Any, expected: str) -> None:
    problems = ml(changed(ML_JOB, path, value))
    assert problems, "the checker accepted a bad body"
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("inputConfig", "gcsSource", "url"), "gs://x", "unknown field `url`"),
        (("inputConfig", "instancesFormat"), "json", "is not one of"),
        (("outputConfig", "predictionsFormat"), "tf-record", "is not one of"),
        (("dedicatedResources", "machineSpec", "acceleratorType"), "NVIDIA_TESLA_T5", "not one of"),
        (("dedicatedResources", "machineSpec", "acceleratorCount"), "1", "not of type 'integer'"),
        (("dedicatedResources", "startingReplicaCount"), 2**31, "is greater than the maximum"),
        (("manualBatchTuningParameters", "batchSize"), 6.4, "not of type 'integer'"),
        (("generateExplanation",), "yes", "not of type 'boolean'"),
        (("name",), "projects/p/locations/l/batchPredictionJobs/1", "`name` is output only"),
        (("state",), "JOB_STATE_RUNNING", "`state` is output only"),
    ],
)
def test_vertex_checker_rejects(path: tuple[str, ...], value: Any, expected: str) -> None:
    problems = vertex(changed(VERTEX_JOB, path, value))
    assert any(expected in p for p in problems), problems


def test_required_fields_are_required_in_requests_only() -> None:
    body = copy.deepcopy(VERTEX_JOB)
    del body["displayName"]
    del body["inputConfig"]["instancesFormat"]
    problems = vertex(body)
    assert any("'displayName' is a required property" in p for p in problems)
    assert any("'instancesFormat' is a required property" in p for p in problems)
    response = {"name": "projects/p/locations/l/batchPredictionJobs/1", "state": "JOB_STATE_PAUSED"}
    root = "GoogleCloudAiplatformV1BatchPredictionJob"
    assert schema_problems("aiplatform", "v1", root, response, direction="response") == []


def test_response_direction_keeps_unspecified_enum_values() -> None:
    root = "GoogleCloudMlV1__Job"
    job = {"jobId": "j", "state": "STATE_UNSPECIFIED"}
    assert schema_problems("ml", "v1", root, job, direction="response") == []


def test_converter_handles_maps_any_and_recursion() -> None:
    doc = {
        "schemas": {
            "Node": {
                "id": "Node",
                "type": "object",
                "properties": {
                    "children": {"type": "array", "items": {"$ref": "Node"}},
                    "attrs": {"type": "object", "additionalProperties": {"type": "string"}},
                    "payload": {"type": "any"},
                    "size": {"type": "string", "format": "uint64"},
                    "when": {"type": "string", "format": "google-datetime"},
                    "id": {"type": "string", "description": "Output only. Assigned."},
                    "kind": {"type": "string", "description": "Required. What it is."},
                },
            }
        }
    }
    from jsonschema import Draft202012Validator

    schema = to_json_schema(doc, "Node")
    validator = Draft202012Validator(schema)
    good = {
        "kind": "a",
        "children": [{"kind": "b", "payload": [1, {"x": None}]}],
        "attrs": {"k": "v"},
        "size": "18446744073709551615",
        "when": "2025-01-31T00:00:00.5Z",
    }
    assert list(validator.iter_errors(good)) == []
    for bad in (
        {"kind": "a", "children": [{"kind": "b", "extra": 1}]},
        {"kind": "a", "attrs": {"k": 1}},
        {"kind": "a", "size": "-1"},
        {"kind": "a", "when": "yesterday"},
        {"kind": "a", "id": "x"},
        {"children": []},
    ):
        assert list(validator.iter_errors(bad)), bad
    response = Draft202012Validator(to_json_schema(doc, "Node", direction="response"))
    assert list(response.iter_errors({"id": "x"})) == []


def test_path_parameters_are_checked() -> None:
    problems = request_problems("ml", "v1", ML_CREATE, ML_JOB, {"parent": "projects/p/jobs"})
    assert any("parent" in str(p) for p in problems)
    assert request_problems("ml", "v1", ML_CREATE, ML_JOB, {"parent": "projects/p"}) == []


def test_methods_and_routing_for_http_doubles() -> None:
    method = find_method("aiplatform", "v1", VERTEX_CREATE)
    assert method.http_method == "POST"
    assert method.request == "GoogleCloudAiplatformV1BatchPredictionJob"
    url = method.url(parent="projects/p/locations/europe-west4", location="europe-west4")
    assert url == (
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4"
        "/batchPredictionJobs"
    )
    found = match_path(
        "aiplatform", "v1", "GET", "/v1/projects/p/locations/l/batchPredictionJobs/9"
    )
    assert found is not None
    assert found[0].id == "aiplatform.projects.locations.batchPredictionJobs.get"
    assert found[1] == {"name": "projects/p/locations/l/batchPredictionJobs/9"}
    cancel = match_path(
        "aiplatform", "v1", "POST", "/v1/projects/p/locations/l/batchPredictionJobs/9:cancel"
    )
    assert cancel is not None and cancel[0].id.endswith("batchPredictionJobs.cancel")
    listed = match_path("ml", "v1", "GET", "/v1/projects/p/jobs?filter=x")
    assert listed is not None and listed[0].id == "ml.projects.jobs.list"
    assert match_path("ml", "v1", "PUT", "/v1/projects/p/jobs") is None


def test_unknown_document_is_a_clear_error() -> None:
    from batchspec.errors import BatchspecError

    with pytest.raises(BatchspecError, match="no discovery document"):
        discovery.discovery_document("nosuchapi", "v9")


def test_documented_format_values_apply_to_v1beta1_too() -> None:
    body = copy.deepcopy(VERTEX_JOB)
    body["inputConfig"]["instancesFormat"] = "json"
    root = "GoogleCloudAiplatformV1beta1BatchPredictionJob"
    problems = schema_problems("aiplatform", "v1beta1", root, body)
    assert [p.pointer for p in problems] == ["inputConfig.instancesFormat"]
