"""Cloud ML Engine (`ml` v1) `projects.jobs.create`: the Job body.

Shaped as Cloud ML Engine's documented `make_batch_job_body` builds it, with two differences
that make the body a pure function of the spec: every value the spec model
fills in (maxWorkerCount 10, batchSize 64, outputDataFormat JSON, the
service's own defaults) is written out, so writing a default explicitly in the
spec changes nothing; and the job id is derived from the name and the
fingerprint (see `identity.mlengine_job_id`) instead of a timestamp.

int64 fields (maxWorkerCount, batchSize) travel as JSON strings, as the
discovery document says. The service was shut down on 2025-01-31; the target
stays for the record and for migrated specs.
"""

from __future__ import annotations

from typing import Any

from batchspec.model.enums import DataFormat, Target
from batchspec.model.spec import BatchPredictionJobSpec, ModelRef
from batchspec.validate import targets

API, VERSION = "ml", "v1"
METHOD = "ml.projects.jobs.create"

# batchspec format -> PredictionInput.dataFormat / outputDataFormat. Which
# formats ML Engine takes is `validate.targets`' table (validated specs use no
# other); its names for them are ours, but JSON for JSON Lines.
INPUT_FORMATS = {
    f: "JSON" if f is DataFormat.JSONL else f.value for f in targets.INPUT_FORMATS[Target.MLENGINE]
}
OUTPUT_FORMATS = {
    f: "JSON" if f is DataFormat.JSONL else f.value for f in targets.OUTPUT_FORMATS[Target.MLENGINE]
}


def parent(project: str) -> str:
    """The `parent` path parameter of jobs.create."""
    return f"projects/{project}"


def model_id(project: str, name: str) -> str:
    """`projects/P/models/M`; a name already in that form is kept (its project wins)."""
    return name if name.startswith("projects/") else f"projects/{project}/models/{name}"


def model_fields(model: ModelRef, project: str) -> dict[str, str]:
    """Exactly one of modelName, versionName, uri (a oneof in the API)."""
    if model.uri is not None:
        return {"uri": model.uri}
    assert model.name is not None, "validated specs name the model"
    base = model_id(project, model.name)
    if model.version is not None:
        return {"versionName": f"{base}/versions/{model.version}"}
    return {"modelName": base}


def mlengine_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The Job body with `jobId` = the spec name and only the user's labels.

    `batchspec.compile.identity.add_identity` turns it into the request."""
    spec = doc.spec
    assert spec.project and spec.region and spec.input.paths and spec.output.path
    prediction: dict[str, Any] = {
        "dataFormat": INPUT_FORMATS[spec.input.format],
        "inputPaths": list(spec.input.paths),
        "outputPath": spec.output.path,
        "region": spec.region,
        **model_fields(spec.model, spec.project),
        "maxWorkerCount": str(spec.resources.max_worker_count),
        "batchSize": str(spec.resources.batch_size),
        "outputDataFormat": OUTPUT_FORMATS[spec.output.format],
    }
    if spec.runtime_version is not None:
        prediction["runtimeVersion"] = spec.runtime_version
    if spec.signature_name is not None:
        prediction["signatureName"] = spec.signature_name
    body: dict[str, Any] = {"jobId": doc.metadata.name, "predictionInput": prediction}
    if doc.metadata.labels:
        body["labels"] = dict(doc.metadata.labels)
    return body
