"""The body each target gets, field by field."""

from __future__ import annotations

from typing import Any

import pytest

from batchspec.compile import compile_spec, strip_identity
from batchspec.compile.genai import wire_body
from batchspec.model.enums import Target
from tests.compile.conftest import make_spec

MANAGED = {"managed-by", "batchspec-job", "batchspec-fp"}
KMS_KEY = "projects/proj-123456/locations/us-central1/keyRings/k/cryptoKeys/c"


def core(target: Target, doc: Any) -> dict[str, Any]:
    job = compile_spec(doc, env={})
    return strip_identity(target, job.body, name=doc.name)


# --- ML Engine -----------------------------------------------------------------


def test_mlengine_body_matches_seed_001_shape() -> None:
    doc = make_spec("mlengine", {"model": {"version": "v2"}, "input": {"format": "TEXT"}})
    job = compile_spec(doc, env={})
    assert job.parent == "projects/legacy-proj"
    assert job.body["jobId"] == f"scores_{job.fingerprint[:12]}"
    assert job.body["predictionInput"] == {
        "dataFormat": "TEXT",
        "inputPaths": ["gs://bucket/in/*"],
        "outputPath": "gs://bucket/out/",
        "region": "us-central1",
        "versionName": "projects/legacy-proj/models/census/versions/v2",
        "maxWorkerCount": "10",
        "batchSize": "64",
        "outputDataFormat": "JSON",
    }
    assert set(job.body["labels"]) == MANAGED


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ({"name": "census"}, {"modelName": "projects/legacy-proj/models/census"}),
        ({"name": "projects/other-proj/models/m"}, {"modelName": "projects/other-proj/models/m"}),
        (
            {"name": "projects/other-proj/models/m", "version": "v1"},
            {"versionName": "projects/other-proj/models/m/versions/v1"},
        ),
        ({"name": None, "uri": "gs://models/census/"}, {"uri": "gs://models/census/"}),
    ],
)
def test_mlengine_model_oneof(model: dict[str, Any], expected: dict[str, str]) -> None:
    doc = make_spec("mlengine", {"model": model})
    prediction = core(Target.MLENGINE, doc)["predictionInput"]
    chosen = {k: prediction[k] for k in ("modelName", "versionName", "uri") if k in prediction}
    assert chosen == expected


@pytest.mark.parametrize(
    ("fmt", "out", "data_format", "output_format"),
    [
        ("JSONL", "JSONL", "JSON", "JSON"),
        ("TEXT", "CSV", "TEXT", "CSV"),
        ("TF_RECORD", "JSONL", "TF_RECORD", "JSON"),
        ("TF_RECORD_GZIP", "CSV", "TF_RECORD_GZIP", "CSV"),
    ],
)
def test_mlengine_formats(fmt: str, out: str, data_format: str, output_format: str) -> None:
    doc = make_spec("mlengine", {"input": {"format": fmt}, "output": {"format": out}})
    prediction = core(Target.MLENGINE, doc)["predictionInput"]
    assert (prediction["dataFormat"], prediction["outputDataFormat"]) == (
        data_format,
        output_format,
    )


def test_mlengine_int64_fields_are_strings_and_optional_fields_appear_when_set() -> None:
    doc = make_spec(
        "mlengine",
        {
            "model": {"name": None, "uri": "gs://models/m/"},
            "resources": {"maxWorkerCount": 3, "batchSize": 512},
            "runtimeVersion": "2.11",
            "signatureName": "predict_v2",
        },
        labels={"team": "census"},
    )
    body = core(Target.MLENGINE, doc)
    prediction = body["predictionInput"]
    assert prediction["maxWorkerCount"] == "3" and prediction["batchSize"] == "512"
    assert prediction["runtimeVersion"] == "2.11" and prediction["signatureName"] == "predict_v2"
    assert body["labels"] == {"team": "census"}
    assert body["jobId"] == "scores"


# --- Vertex AI -------------------------------------------------------------------


def test_vertex_minimal_body() -> None:
    job = compile_spec(make_spec("vertex"), env={})
    assert job.parent == "projects/proj-123456/locations/us-central1"
    body = strip_identity(Target.VERTEX, job.body, name="scores")
    assert body == {
        "displayName": "scores",
        "model": "projects/proj-123456/locations/us-central1/models/123",
        "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://bucket/in/*"]}},
        "outputConfig": {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": "gs://bucket/out/"},
        },
    }


@pytest.mark.parametrize(
    ("fmt", "instances"),
    [
        ("JSONL", "jsonl"),
        ("CSV", "csv"),
        ("TF_RECORD", "tf-record"),
        ("TF_RECORD_GZIP", "tf-record-gzip"),
        ("FILE_LIST", "file-list"),
    ],
)
def test_vertex_instance_formats(fmt: str, instances: str) -> None:
    body = core(Target.VERTEX, make_spec("vertex", {"input": {"format": fmt}}))
    assert body["inputConfig"]["instancesFormat"] == instances


def test_vertex_bigquery_in_and_out_with_instance_config() -> None:
    doc = make_spec(
        "vertex",
        {
            "input": {
                "format": "BIGQUERY",
                "paths": None,
                "bigquery": "bq://proj-123456.crm.customers",
                "keyField": "id",
                "includedFields": ["a", "b"],
                "instanceType": "array",
            },
            "output": {"path": None, "bigquery": "bq://proj-123456.scores", "format": "BIGQUERY"},
        },
    )
    body = core(Target.VERTEX, doc)
    assert body["inputConfig"] == {
        "instancesFormat": "bigquery",
        "bigquerySource": {"inputUri": "bq://proj-123456.crm.customers"},
    }
    assert body["outputConfig"] == {
        "predictionsFormat": "bigquery",
        "bigqueryDestination": {"outputUri": "bq://proj-123456.scores"},
    }
    assert body["instanceConfig"] == {
        "keyField": "id",
        "includedFields": ["a", "b"],
        "instanceType": "array",
    }


@pytest.mark.parametrize(
    ("resources", "dedicated", "batch"),
    [
        ({}, None, None),
        ({"batchSize": 32}, None, None),  # batchSize only applies with dedicated resources
        ({"machineType": "n1-standard-4"}, {"machineSpec": {"machineType": "n1-standard-4"}}, 64),
        (
            {"machineType": "n1-standard-4", "replicaCount": 12},
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "startingReplicaCount": 12,
                "maxReplicaCount": 12,
            },
            64,
        ),
        (
            {"machineType": "g2-standard-4", "maxReplicaCount": 5, "batchSize": 16},
            {"machineSpec": {"machineType": "g2-standard-4"}, "maxReplicaCount": 5},
            16,
        ),
        (
            {
                "machineType": "n1-standard-8",
                "accelerator": {"type": "NVIDIA_TESLA_T4", "count": 2},
                "replicaCount": 2,
                "maxReplicaCount": 6,
            },
            {
                "machineSpec": {
                    "machineType": "n1-standard-8",
                    "acceleratorType": "NVIDIA_TESLA_T4",
                    "acceleratorCount": 2,
                },
                "startingReplicaCount": 2,
                "maxReplicaCount": 6,
            },
            64,
        ),
    ],
)
def test_vertex_dedicated_resources(
    resources: dict[str, Any], dedicated: dict[str, Any] | None, batch: int | None
) -> None:
    body = core(Target.VERTEX, make_spec("vertex", {"resources": resources}))
    assert body.get("dedicatedResources") == dedicated
    assert body.get("manualBatchTuningParameters") == (
        {"batchSize": batch} if batch is not None else None
    )


def test_vertex_security_explanations_and_parameters() -> None:
    doc = make_spec(
        "vertex",
        {
            "serviceAccount": "jobs@proj-123456.iam.gserviceaccount.com",
            "encryptionKeyName": KMS_KEY,
            "generateExplanation": True,
            "modelParameters": {"temperature": 0.2, "stop": ["\n"]},
        },
    )
    body = core(Target.VERTEX, doc)
    assert body["serviceAccount"] == "jobs@proj-123456.iam.gserviceaccount.com"
    assert body["encryptionSpec"] == {"kmsKeyName": KMS_KEY}
    assert body["generateExplanation"] is True
    assert body["modelParameters"] == {"temperature": 0.2, "stop": ["\n"]}
    off = core(Target.VERTEX, make_spec("vertex", {"generateExplanation": False}))
    assert "generateExplanation" not in off  # false is the API default: not sent


@pytest.mark.parametrize(
    ("publisher", "model"),
    [
        ("gemini-2.0-flash-001", "publishers/google/models/gemini-2.0-flash-001"),
        (
            "publishers/google/models/gemini-2.0-flash-001",
            "publishers/google/models/gemini-2.0-flash-001",
        ),
    ],
)
def test_vertex_publisher_models_are_fully_qualified(publisher: str, model: str) -> None:
    doc = make_spec("vertex", {"model": {"resource": None, "publisher": publisher}})
    assert core(Target.VERTEX, doc)["model"] == model


# --- google-genai ----------------------------------------------------------------


def test_genai_arguments_single_file() -> None:
    job = compile_spec(make_spec("genai", labels={"team": "growth"}), env={})
    assert job.parent == "projects/proj-123456/locations/us-east5"
    assert job.body["model"] == "publishers/anthropic/models/claude-3-5-haiku"
    assert job.body["src"] == "gs://bucket/requests.jsonl"
    config = job.body["config"]
    assert config["display_name"] == "scores" and config["dest"] == "gs://bucket/out/"
    labels = config["http_options"]["extra_body"]["labels"]
    assert labels["team"] == "growth" and set(labels) >= MANAGED


def test_genai_several_files_use_a_batch_job_source_not_a_list() -> None:
    # a plain list would be read by google-genai as inlined requests
    doc = make_spec("genai", {"input": {"paths": ["gs://bucket/a.jsonl", "gs://bucket/c/*"]}})
    src = compile_spec(doc, env={}).body["src"]
    assert src == {"format": "jsonl", "gcs_uri": ["gs://bucket/a.jsonl", "gs://bucket/c/*"]}


def test_genai_bigquery_source_and_destination() -> None:
    doc = make_spec(
        "genai",
        {
            "input": {"format": "BIGQUERY", "paths": None, "bigquery": "bq://proj-123456.d.t"},
            "output": {"path": None, "bigquery": "bq://proj-123456.out", "format": "BIGQUERY"},
        },
    )
    body = compile_spec(doc, env={}).body
    assert body["src"] == "bq://proj-123456.d.t"
    assert body["config"]["dest"] == "bq://proj-123456.out"
    wire = wire_body(body)
    assert wire["inputConfig"] == {
        "instancesFormat": "bigquery",
        "bigquerySource": {"inputUri": "bq://proj-123456.d.t"},
    }
    assert wire["outputConfig"]["bigqueryDestination"] == {"outputUri": "bq://proj-123456.out"}
    assert set(wire["labels"]) == MANAGED


def test_genai_config_is_accepted_by_the_installed_sdk() -> None:
    from google.genai import types

    job = compile_spec(make_spec("genai", labels={"team": "growth"}), env={})
    config = types.CreateBatchJobConfig.model_validate(job.body["config"])
    assert config.display_name == "scores"
    assert config.http_options is not None and config.http_options.extra_body is not None
    multi = make_spec("genai", {"input": {"paths": ["gs://bucket/a.jsonl", "gs://bucket/c/*"]}})
    source = types.BatchJobSource.model_validate(compile_spec(multi, env={}).body["src"])
    assert source.gcs_uri == ["gs://bucket/a.jsonl", "gs://bucket/c/*"]
