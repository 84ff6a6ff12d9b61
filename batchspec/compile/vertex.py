"""Vertex AI `projects.locations.batchPredictionJobs.create`: a BatchPredictionJob.

Only fields the spec sets appear, except the required ones. Notes that shape
the body (see NOTES.md):

* int32 fields (replica counts, acceleratorCount, batchSize) are JSON numbers.
* Batch jobs do not autoscale: `startingReplicaCount` is what runs, so when the
  spec gives only `replicaCount`, `maxReplicaCount` is set to the same number
  (the service's default maximum, 10, would otherwise refuse a larger start).
* `manualBatchTuningParameters.batchSize` only applies with dedicated
  resources, so it is sent only with a machineType.
* A publisher model given by a short name (`gemini-2.0-flash`,
  `anthropic/claude-3-5-haiku`) is expanded as google-genai expands it, so the
  body says exactly which model runs and both targets mean the same model.
* Fields added to the spec later (displayName, explanationSpec,
  disableContainerLogging) appear only when set, so bodies and fingerprints
  of specs that do not use them never change.
"""

from __future__ import annotations

from typing import Any

from batchspec.model.enums import Target
from batchspec.model.spec import BatchPredictionJobSpec, ModelRef
from batchspec.validate.rules.models import expand_publisher
from batchspec.validate.targets import INPUT_FORMATS, OUTPUT_FORMATS

API, VERSION = "aiplatform", "v1"
METHOD = "aiplatform.projects.locations.batchPredictionJobs.create"

# Which formats Vertex AI takes is `validate.targets`' table (validated specs
# use no other); its names for them are ours in kebab case (`tf-record-gzip`).
INSTANCES_FORMATS = {f: f.value.lower().replace("_", "-") for f in INPUT_FORMATS[Target.VERTEX]}
PREDICTIONS_FORMATS = {f: f.value.lower().replace("_", "-") for f in OUTPUT_FORMATS[Target.VERTEX]}


def parent(project: str, region: str) -> str:
    """The `parent` path parameter: `projects/P/locations/R`."""
    return f"projects/{project}/locations/{region}"


def model_name(model: ModelRef) -> str:
    """The Model resource or publisher model name, fully qualified."""
    if model.resource is not None:
        return model.resource
    assert model.publisher is not None, "validated specs name the model"
    return expand_publisher(model.publisher)


def display_name(doc: BatchPredictionJobSpec) -> str:
    """`metadata.displayName`, else the job name."""
    return doc.metadata.display_name or doc.metadata.name


def _one_of(
    bigquery: str | None, table: tuple[str, str], files: tuple[str, dict[str, Any]]
) -> dict[str, Any]:
    """A BigQuery table (`table`: the field and its uri key) or else Cloud
    Storage (`files`: the field and its value): a oneof in the API."""
    if bigquery is not None:
        field, uri = table
        return {field: {uri: bigquery}}
    return dict([files])


def input_config(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """inputConfig: the format and exactly one source."""
    inp = doc.spec.input
    files = {"uris": list(inp.paths or ())}
    source = _one_of(inp.bigquery, ("bigquerySource", "inputUri"), ("gcsSource", files))
    return {"instancesFormat": INSTANCES_FORMATS[inp.format], **source}


def output_config(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """outputConfig: the format and exactly one destination."""
    out = doc.spec.output
    files = {"outputUriPrefix": out.path}
    sink = _one_of(out.bigquery, ("bigqueryDestination", "outputUri"), ("gcsDestination", files))
    return {"predictionsFormat": PREDICTIONS_FORMATS[out.format], **sink}


def instance_config(doc: BatchPredictionJobSpec) -> dict[str, Any] | None:
    """instanceConfig, when the spec selects a key or fields."""
    inp = doc.spec.input
    config: dict[str, Any] = {}
    if inp.key_field is not None:
        config["keyField"] = inp.key_field
    if inp.included_fields is not None:
        config["includedFields"] = list(inp.included_fields)
    if inp.excluded_fields is not None:
        config["excludedFields"] = list(inp.excluded_fields)
    if inp.instance_type is not None:
        config["instanceType"] = inp.instance_type
    return config or None


def dedicated_resources(doc: BatchPredictionJobSpec) -> dict[str, Any] | None:
    """dedicatedResources, when the spec names a machine type."""
    res = doc.spec.resources
    if res.machine_type is None:
        return None
    machine: dict[str, Any] = {"machineType": res.machine_type}
    if res.accelerator is not None:
        machine["acceleratorType"] = res.accelerator.type
        machine["acceleratorCount"] = res.accelerator.count
    out: dict[str, Any] = {"machineSpec": machine}
    if res.replica_count is not None:
        out["startingReplicaCount"] = res.replica_count
    maximum = res.max_replica_count or res.replica_count
    if maximum is not None:
        out["maxReplicaCount"] = maximum
    return out


def vertex_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The BatchPredictionJob with only the user's labels."""
    spec = doc.spec
    body: dict[str, Any] = {
        "displayName": display_name(doc),
        "model": model_name(spec.model),
        "inputConfig": input_config(doc),
        "outputConfig": output_config(doc),
    }
    instance = instance_config(doc)
    if instance is not None:
        body["instanceConfig"] = instance
    dedicated = dedicated_resources(doc)
    if dedicated is not None:
        body["dedicatedResources"] = dedicated
        body["manualBatchTuningParameters"] = {"batchSize": spec.resources.batch_size}
    if spec.model_parameters is not None:
        body["modelParameters"] = spec.model_parameters
    if doc.metadata.labels:
        body["labels"] = dict(doc.metadata.labels)
    if spec.service_account is not None:
        body["serviceAccount"] = spec.service_account
    if spec.encryption_key_name is not None:
        body["encryptionSpec"] = {"kmsKeyName": spec.encryption_key_name}
    if spec.generate_explanation:
        body["generateExplanation"] = True
    if spec.explanation_spec is not None:
        body["explanationSpec"] = spec.explanation_spec.model_dump(exclude_none=True)
    if spec.disable_container_logging:
        body["disableContainerLogging"] = True
    return body
