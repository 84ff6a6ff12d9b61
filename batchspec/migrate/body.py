"""Read ML Engine `projects.jobs` bodies (JSON): a create request, a job as
`jobs describe --format json` prints it, or a list of them (`jobs list`).

Output-only fields (state, times, predictionOutput...) describe a past run,
not the job: they are dropped, and the spec says so in a comment. Everything
else must be understood; an unknown field is an error that names it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from batchspec.migrate.fields import (
    DEFAULT_OUTPUT_DATA_FORMAT,
    SERVICE_DEFAULTS,
    JobFields,
    MigrationError,
    Problem,
    at_least_one,
)
from batchspec.migrate.text import bad_strings
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_JOB, LABEL_MANAGED_BY, MANAGED_BY_VALUE

OUTPUT_ONLY = (
    "createTime",
    "startTime",
    "endTime",
    "state",
    "errorMessage",
    "etag",
    "predictionOutput",
    "jobPosition",
)
PREDICTION_KEYS = (
    "dataFormat",
    "inputPaths",
    "outputPath",
    "region",
    "modelName",
    "versionName",
    "uri",
    "maxWorkerCount",
    "batchSize",
    "runtimeVersion",
    "signatureName",
    "outputDataFormat",
)
INPUT_DATA_FORMATS = ("JSON", "TEXT", "TF_RECORD", "TF_RECORD_GZIP")
OUTPUT_DATA_FORMATS = ("JSON", "CSV")
_MODEL = re.compile(r"^projects/([^/]+)/models/([^/]+)$")
_VERSION = re.compile(r"^projects/([^/]+)/models/([^/]+)/versions/([^/]+)$")
_BATCHSPEC_ID = re.compile(r"^(?P<name>.+)_(?P<fp>[0-9a-f]{12})(_r[0-9]+)?$")


def parse_json_text(text: str, *, source: str = "-") -> list[Mapping[str, Any]]:
    """The job bodies in `text` (one object or a list of objects)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise MigrationError(
            f"JSON from {source}",
            [
                Problem(
                    "<top level>",
                    "nested too deeply to read",
                    "a job body nests a few levels; check for runaway brackets",
                )
            ],
        ) from None
    except json.JSONDecodeError as exc:
        raise MigrationError(
            f"JSON from {source}",
            [
                Problem(
                    f"line {exc.lineno} column {exc.colno}",
                    exc.msg,
                    "is this a gcloud command? use --from gcloud",
                )
            ],
        ) from None
    items = data if isinstance(data, list) else [data]
    bad = [i for i, item in enumerate(items) if not isinstance(item, dict)]
    if bad or not items:
        raise MigrationError(
            f"JSON from {source}",
            [Problem("<top level>", "expected a Job object or a list of Job objects")],
        )
    problems = list(bad_strings(data, ""))
    if problems:
        raise MigrationError(f"JSON from {source}", problems)
    return items


def fields_from_body(body: Mapping[str, Any], *, label: str = "") -> JobFields:
    """The job a body describes; every problem at once as a MigrationError."""
    problems: list[Problem] = []
    at = (label + ".") if label else ""
    prediction = _prediction(body, at, problems)
    name = _name(body, at, problems)
    labels = _labels(body, at, problems)
    fields = JobFields(
        name=name,
        data_format=_choice(
            prediction, "dataFormat", INPUT_DATA_FORMATS, at, problems, default=None
        ),
        input_paths=_paths(prediction, at, problems),
        output_path=_string(prediction, "outputPath", at, problems, required=True) or "",
        region=_string(prediction, "region", at, problems, required=True) or "",
        max_worker_count=_int64(prediction, "maxWorkerCount", at, problems),
        batch_size=_int64(prediction, "batchSize", at, problems),
        runtime_version=_string(prediction, "runtimeVersion", at, problems),
        signature_name=_string(prediction, "signatureName", at, problems),
        output_data_format=_choice(
            prediction,
            "outputDataFormat",
            OUTPUT_DATA_FORMATS,
            at,
            problems,
            default=DEFAULT_OUTPUT_DATA_FORMAT,
        ),
        labels=labels,
        origin=_origin(at),
    )
    _model(prediction, fields, at, problems)
    dropped = [k for k in OUTPUT_ONLY if k in body]
    if dropped:
        fields.notes.append("dropped output-only fields of a past run: " + ", ".join(dropped))
    if problems:
        raise MigrationError("ML Engine job body", problems)
    return fields


def _origin(at: str) -> dict[str, str]:
    pi = f"{at}predictionInput."
    return {
        "name": f"{at}jobId",
        "labels": f"{at}labels",
        "data_format": pi + "dataFormat",
        "input_paths": pi + "inputPaths",
        "output_path": pi + "outputPath",
        "region": pi + "region",
        "model": pi + "modelName/versionName/uri",
        "version": pi + "versionName",
        "uri": pi + "uri",
        "max_worker_count": pi + "maxWorkerCount",
        "batch_size": pi + "batchSize",
        "runtime_version": pi + "runtimeVersion",
        "signature_name": pi + "signatureName",
        "output_data_format": pi + "outputDataFormat",
        "project": pi + "modelName/versionName",
    }


def _prediction(body: Mapping[str, Any], at: str, problems: list[Problem]) -> Mapping[str, Any]:
    known = {"jobId", "labels", "predictionInput", *OUTPUT_ONLY}
    if "trainingInput" in body:
        problems.append(
            Problem(f"{at}trainingInput", "a training job; only batch prediction jobs import")
        )
    for key in sorted(set(body) - known - {"trainingInput"}):
        problems.append(Problem(f"{at}{key}", "unknown field of an ML Engine Job"))
    prediction = body.get("predictionInput")
    if not isinstance(prediction, dict):
        if "trainingInput" not in body:
            problems.append(
                Problem(
                    f"{at}predictionInput",
                    "missing or not an object",
                    "a batch prediction job body has jobId and predictionInput",
                )
            )
        return {}
    for key in sorted(set(prediction) - set(PREDICTION_KEYS)):
        problems.append(Problem(f"{at}predictionInput.{key}", "unknown field of PredictionInput"))
    return prediction


def _name(body: Mapping[str, Any], at: str, problems: list[Problem]) -> str:
    job_id = body.get("jobId")
    if not isinstance(job_id, str) or not job_id:
        problems.append(Problem(f"{at}jobId", "missing or not a string"))
        return ""
    raw_labels = body.get("labels")
    labels: Mapping[str, Any] = raw_labels if isinstance(raw_labels, dict) else {}
    found = _BATCHSPEC_ID.match(job_id)
    fp = str(labels.get(LABEL_FINGERPRINT, "")) if labels else ""
    if (
        found
        and labels.get(LABEL_MANAGED_BY) == MANAGED_BY_VALUE
        and fp.startswith(found.group("fp"))
    ):
        return found.group("name")  # a job batchspec compiled: give the spec its name back
    return job_id


def _labels(body: Mapping[str, Any], at: str, problems: list[Problem]) -> dict[str, str]:
    labels = body.get("labels", {})
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        problems.append(Problem(f"{at}labels", "labels map strings to strings"))
        return {}
    managed = {LABEL_MANAGED_BY, LABEL_JOB, LABEL_FINGERPRINT}
    return {k: v for k, v in labels.items() if k not in managed}


def _string(
    data: Mapping[str, Any], key: str, at: str, problems: list[Problem], *, required: bool = False
) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(Problem(f"{at}predictionInput.{key}", "required field is missing"))
        return None
    if not isinstance(value, str) or (required and not value):
        problems.append(Problem(f"{at}predictionInput.{key}", f"expected a string, got {value!r}"))
        return None
    return value


def _choice(
    data: Mapping[str, Any],
    key: str,
    allowed: tuple[str, ...],
    at: str,
    problems: list[Problem],
    *,
    default: str | None,
) -> str:
    value = data.get(key)
    where = f"{at}predictionInput.{key}"
    if value is None:
        if default is None:
            problems.append(
                Problem(where, "required field is missing", "one of: " + ", ".join(allowed))
            )
            return ""
        return default
    if value not in allowed:
        why = {
            ("dataFormat", "CSV"): "CSV is output-only on ML Engine",
            ("outputDataFormat", "TF_RECORD"): "TF_RECORD is input-only on ML Engine",
            ("outputDataFormat", "TF_RECORD_GZIP"): "TF_RECORD_GZIP is input-only on ML Engine",
        }.get((key, str(value)))
        message = f"{value!r} is not supported" + (f": {why}" if why else "")
        problems.append(Problem(where, message, "one of: " + ", ".join(allowed)))
        return ""
    return str(value)


def _paths(data: Mapping[str, Any], at: str, problems: list[Problem]) -> list[str]:
    value = data.get("inputPaths")
    where = f"{at}predictionInput.inputPaths"
    if value is None:
        problems.append(Problem(where, "required field is missing"))
        return []
    if not isinstance(value, list) or not value or not all(isinstance(p, str) and p for p in value):
        problems.append(Problem(where, "expected a non-empty list of gs:// paths"))
        return []
    return list(value)


def _int64(data: Mapping[str, Any], key: str, at: str, problems: list[Problem]) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    where = f"{at}predictionInput.{key}"
    expected = "an int64 (a string of digits)"
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.append(Problem(where, f"expected {expected}, got {value!r}"))
        return None
    return at_least_one(value, where, problems, expected=expected)


def _model(data: Mapping[str, Any], fields: JobFields, at: str, problems: list[Problem]) -> None:
    given = [k for k in ("modelName", "versionName", "uri") if data.get(k) is not None]
    where = f"{at}predictionInput"
    if len(given) != 1:
        listed = ", ".join(given) or "none"
        problems.append(
            Problem(where, f"give exactly one of modelName, versionName, uri (found {listed})")
        )
        return
    key = given[0]
    value = data[key]
    if not isinstance(value, str):
        problems.append(Problem(f"{where}.{key}", f"expected a string, got {value!r}"))
        return
    if key == "uri":
        fields.uri = value
        return
    pattern, example = (
        (_MODEL, "projects/P/models/M")
        if key == "modelName"
        else (_VERSION, "projects/P/models/M/versions/V")
    )
    found = pattern.match(value)
    if not found:
        problems.append(Problem(f"{where}.{key}", f"{value!r} is not of the form {example}"))
        return
    fields.project, fields.model = found.group(1), found.group(2)
    if key == "versionName":
        fields.version = found.group(3)


def normalized_body(body: Mapping[str, Any], *, name: str) -> dict[str, Any]:
    """`body` as batchspec would compile it: output-only fields and batchspec's
    labels dropped, service defaults written out, int64 values as strings, and
    `jobId` replaced by the spec name. Two bodies that normalise equal run the
    same job."""
    prediction = dict(body.get("predictionInput", {}))
    for key, value in SERVICE_DEFAULTS.items():
        prediction.setdefault(key, value)
    for key in ("maxWorkerCount", "batchSize"):
        prediction[key] = str(int(prediction[key]))
    out: dict[str, Any] = {"jobId": name, "predictionInput": prediction}
    managed = {LABEL_MANAGED_BY, LABEL_JOB, LABEL_FINGERPRINT}
    labels = {k: v for k, v in dict(body.get("labels") or {}).items() if k not in managed}
    if labels:
        out["labels"] = labels
    return out
