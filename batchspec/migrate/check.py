"""Prove an import lost nothing: validate the spec, compile it, compare bodies.

`batchspec import` refuses to write a spec unless compiling it for ML Engine
gives back the body the source describes (after normalising service
defaults and batchspec's own identity fields). Validation problems are
reported under the source's own names (`--region`, `predictionInput.region`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from batchspec.diagnostics import Diagnostic
from batchspec.migrate.fields import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_WORKER_COUNT,
    DEFAULT_OUTPUT_DATA_FORMAT,
    JobFields,
    MigrationError,
    Problem,
    where,
)
from batchspec.model.enums import Target
from batchspec.model.spec import BatchPredictionJobSpec

# A project for the comparison when the source names none (a --model-dir job
# from a gcloud command without --project); it never reaches the spec.
PLACEHOLDER_PROJECT = "batchspec-import-check"

_SPEC_TO_FIELD: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("metadata", "name"), "name", "jobId"),
    (("metadata", "labels"), "labels", "labels"),
    (("spec", "project"), "project", "project"),
    (("spec", "region"), "region", "region"),
    (("spec", "input", "paths"), "input_paths", "inputPaths"),
    (("spec", "input", "format"), "data_format", "dataFormat"),
    (("spec", "output", "format"), "output_data_format", "outputDataFormat"),
    (("spec", "output"), "output_path", "outputPath"),
    (("spec", "model", "version"), "version", "versionName"),
    (("spec", "model", "uri"), "uri", "uri"),
    (("spec", "model"), "model", "modelName"),
    (("spec", "resources", "maxWorkerCount"), "max_worker_count", "maxWorkerCount"),
    (("spec", "resources", "batchSize"), "batch_size", "batchSize"),
    (("spec", "runtimeVersion"), "runtime_version", "runtimeVersion"),
    (("spec", "signatureName"), "signature_name", "signatureName"),
)


def source_name(fields: JobFields, path: tuple[str | int, ...]) -> str:
    """The source's name for the spec field at `path`."""
    for prefix, key, default in _SPEC_TO_FIELD:
        if tuple(path[: len(prefix)]) == prefix:
            return where(fields, key, default)
    return ".".join(str(p) for p in path) or "<job>"


def as_problem(fields: JobFields, d: Diagnostic) -> Problem:
    """A spec diagnostic, told in the source's words."""
    hint = d.hint
    if d.path[:2] == ("metadata", "name"):
        hint = (hint + ", " if hint else "") + "or rename the job with --name"
    return Problem(source_name(fields, d.path), f"{d.message} [{d.code}]", hint)


def validated(
    fields: JobFields, data: Mapping[str, Any]
) -> tuple[BatchPredictionJobSpec, list[Problem]]:
    """The typed spec and its warnings; errors raise MigrationError."""
    from batchspec.load.source import Document
    from batchspec.validate.validator import validate_document

    spec, diagnostics = validate_document(Document("<import>", 0, dict(data), ""))
    errors = [as_problem(fields, d) for d in diagnostics if d.is_error]
    if errors or not isinstance(spec, BatchPredictionJobSpec):
        raise MigrationError(f"job {fields.name or '?'}", errors)
    return spec, [as_problem(fields, d) for d in diagnostics if not d.is_error]


def expected_body(fields: JobFields, project: str) -> dict[str, Any]:
    """The ML Engine body the source describes, as gcloud would build it, with
    service defaults written out and the spec name as `jobId`."""
    prediction: dict[str, Any] = {
        "dataFormat": fields.data_format,
        "inputPaths": list(fields.input_paths),
        "outputPath": fields.output_path,
        "region": fields.region,
        "maxWorkerCount": str(fields.max_worker_count or DEFAULT_MAX_WORKER_COUNT),
        "batchSize": str(fields.batch_size or DEFAULT_BATCH_SIZE),
        "outputDataFormat": fields.output_data_format or DEFAULT_OUTPUT_DATA_FORMAT,
    }
    if fields.uri is not None:
        prediction["uri"] = fields.uri
    else:
        model = str(fields.model)
        base = model if model.startswith("projects/") else f"projects/{project}/models/{model}"
        if fields.version is not None:
            prediction["versionName"] = f"{base}/versions/{fields.version}"
        else:
            prediction["modelName"] = base
    if fields.runtime_version is not None:
        prediction["runtimeVersion"] = fields.runtime_version
    if fields.signature_name is not None:
        prediction["signatureName"] = fields.signature_name
    body: dict[str, Any] = {"jobId": fields.name, "predictionInput": prediction}
    if fields.labels:
        body["labels"] = dict(fields.labels)
    return body


def round_trip(
    fields: JobFields, spec: BatchPredictionJobSpec, expected: Mapping[str, Any] | None = None
) -> None:
    """Compile `spec` for ML Engine and insist on the body the source describes."""
    from batchspec.compile import compile_spec, strip_identity
    from batchspec.errors import CompileError

    project = spec.spec.project or PLACEHOLDER_PROJECT
    try:
        job = compile_spec(spec, target=Target.MLENGINE, env={"BATCHSPEC_PROJECT": project})
    except CompileError as exc:
        raise MigrationError(
            f"job {fields.name}", [as_problem(fields, d) for d in exc.diagnostics if d.is_error]
        ) from None
    got = strip_identity(Target.MLENGINE, job.body, name=spec.name)
    want = dict(expected) if expected is not None else expected_body(fields, project)
    if got != want:
        diffs = _differences(want, got)
        raise MigrationError(
            f"job {fields.name}",
            [
                Problem(
                    path or "<body>",
                    f"the spec would compile to {b!r} instead of {a!r}",
                    "this is a bug in batchspec import; please report it with the input",
                )
                for path, a, b in diffs
            ],
        )


def _differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else key
            out.extend(_differences(a.get(key), b.get(key), sub))
        return out
    return [] if a == b else [(path, a, b)]
