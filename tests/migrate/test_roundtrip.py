"""Import then compile gives back an equivalent body (property tests)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchspec.compile import compile_spec, strip_identity
from batchspec.migrate import import_text
from batchspec.migrate.body import normalized_body
from batchspec.model.enums import Target
from tests.compile.strategies import (
    gcs_folders,
    gcs_paths,
    label_maps,
    mlengine_documents,
    projects,
    short_names,
    valid_spec,
)
from tests.compile.strategies import job_names as _job_names

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MLENGINE_REGIONS = ["us-central1", "us-east1", "europe-west1", "asia-east1"]


@PROPERTY
@given(mlengine_documents())
def test_spec_to_body_to_spec_is_the_same_job(data: dict[str, Any]) -> None:
    """Compile a spec, import the body, compile again: the same request."""
    original = compile_spec(valid_spec(data), env={})
    [job] = import_text(json.dumps(original.body)).jobs
    # a body names its project only through modelName / versionName
    again = compile_spec(job.spec, env={"BATCHSPEC_PROJECT": data["spec"]["project"]})
    if len(data["metadata"]["name"]) <= 115:  # longer names are cut in the job id
        assert again.body == original.body
        assert again.fingerprint == original.fingerprint
    else:
        assert again.body["predictionInput"] == original.body["predictionInput"]


@st.composite
def ml_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Job bodies as other tools wrote them: defaults left out, int64 as numbers."""
    project = draw(projects)
    model = draw(short_names)
    way = draw(st.sampled_from(["modelName", "versionName", "uri"]))
    prediction: dict[str, Any] = {
        "dataFormat": draw(st.sampled_from(["JSON", "TEXT", "TF_RECORD", "TF_RECORD_GZIP"])),
        "inputPaths": draw(st.lists(gcs_paths(), min_size=1, max_size=4)),
        "outputPath": draw(gcs_folders()),
        "region": draw(st.sampled_from(MLENGINE_REGIONS)),
    }
    if way == "uri":
        prediction["uri"] = draw(gcs_folders())
    elif way == "modelName":
        prediction["modelName"] = f"projects/{project}/models/{model}"
    else:
        prediction["versionName"] = (
            f"projects/{project}/models/{model}/versions/{draw(short_names)}"
        )
    for key in ("maxWorkerCount", "batchSize"):
        if draw(st.booleans()):
            value = draw(st.integers(1, 10_000))
            prediction[key] = draw(st.sampled_from([value, str(value)]))
    if draw(st.booleans()):
        prediction["outputDataFormat"] = draw(st.sampled_from(["JSON", "CSV"]))
    if draw(st.booleans()):
        prediction["signatureName"] = draw(short_names)
    if way == "uri" and draw(st.booleans()):
        prediction["runtimeVersion"] = "2.11"
    body: dict[str, Any] = {"jobId": draw(_job_names), "predictionInput": prediction}
    labels = draw(label_maps)
    if labels:
        body["labels"] = labels
    if draw(st.booleans()):
        body["state"] = "SUCCEEDED"
    return body


@PROPERTY
@given(ml_bodies())
def test_body_to_spec_to_body_is_equivalent(body: dict[str, Any]) -> None:
    [job] = import_text(json.dumps(body)).jobs
    project = job.spec.spec.project or "some-project"
    compiled = compile_spec(job.spec, env={"BATCHSPEC_PROJECT": project})
    core = strip_identity(Target.MLENGINE, compiled.body, name=job.spec.name)
    assert core == normalized_body(body, name=body["jobId"])


@PROPERTY
@given(ml_bodies(), st.booleans())
def test_gcloud_command_to_spec_is_the_same_job(body: dict[str, Any], use_equals: bool) -> None:
    """The gcloud command for a body imports to the same job as the body."""
    prediction = body["predictionInput"]
    flags: list[tuple[str, str]] = []
    if "uri" in prediction:
        flags.append(("--model-dir", prediction["uri"]))
        project = "acme-proj"
    else:
        name = prediction.get("modelName") or prediction["versionName"]
        parts = name.split("/")
        project = parts[1]
        flags.append(("--model", parts[3]))
        if "versionName" in prediction:
            flags.append(("--version", parts[5]))
    gcloud_format = {
        "JSON": "json",
        "TEXT": "text",
        "TF_RECORD": "tf-record",
        "TF_RECORD_GZIP": "tf-record-gzip",
    }
    flags += [
        ("--input-paths", ",".join(prediction["inputPaths"])),
        ("--output-path", prediction["outputPath"]),
        ("--region", prediction["region"]),
        ("--data-format", gcloud_format[prediction["dataFormat"]]),
        ("--project", project),
    ]
    for flag, key in (
        ("--max-worker-count", "maxWorkerCount"),
        ("--batch-size", "batchSize"),
        ("--signature-name", "signatureName"),
        ("--runtime-version", "runtimeVersion"),
    ):
        if key in prediction:
            flags.append((flag, str(prediction[key])))
    if body.get("labels"):
        flags.append(("--labels", ",".join(f"{k}={v}" for k, v in body["labels"].items())))
    words = ["gcloud", "ai-platform", "jobs", "submit", "prediction", body["jobId"]]
    for flag, value in flags:
        words += [f"{flag}={value}"] if use_equals else [flag, value]
    command = " ".join(shlex.quote(w) for w in words)
    prediction.pop("outputDataFormat", None)  # gcloud has no flag for it: JSON
    [job] = import_text(command).jobs
    compiled = compile_spec(job.spec, env={})
    core = strip_identity(Target.MLENGINE, compiled.body, name=job.spec.name)
    assert core == normalized_body(body, name=body["jobId"])
