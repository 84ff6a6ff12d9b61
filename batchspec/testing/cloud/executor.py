"""What runs when a job in the double reaches RUNNING: the pluggable executor.

The double calls `executor(ExecutionRequest) -> ExecutionResult` once per job.
The default, `FileExecutor`, does what the services do with files: it reads
the input instances (JSON lines, wildcards expanded) from fake-gcs-server or
local disk, "predicts" with a deterministic function, and writes the output
files the service would write:

* Vertex / genai: a new folder `prediction-<displayName>-<timestamp>` under
  the output prefix holding `predictions_0001.jsonl` and `errors_0001.jsonl`
  (`{"instance"|"key": ..., "prediction": ...}` and `{..., "error": {"code",
  "message"}}`). The timestamp is the execution time, deliberately *not* the
  createTime, so a client that rebuilds the folder name instead of reading
  `outputInfo` finds nothing. `style="shards"` writes the legacy
  `prediction.results-NNNNN-of-NNNNN` / `prediction.errors_stats-...` pair
  instead, as custom-container jobs do.
* ML Engine: `prediction.results-00000-of-00001` and
  `prediction.errors_stats-00000-of-00001` straight into `outputPath`, the
  errors as the Python tuple lines the Dataflow pipeline wrote.

`EngineExecutor` (engine.py) runs the real local engine instead: any
callable with this signature plugs in.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from batchspec.io import storage
from batchspec.results import read_instances

Outcome = str  # "SUCCEEDED" | "PARTIALLY_SUCCEEDED" | "FAILED"


@dataclass
class ExecutionRequest:
    """A job the double wants run, in the service's own terms."""

    api: str  # vertex | genai | mlengine
    name: str
    display_name: str
    input_uris: list[str]
    input_format: str
    output_prefix: str | None
    bigquery_source: str | None = None
    bigquery_destination: str | None = None
    key_field: str | None = None
    included_fields: list[str] | None = None
    excluded_fields: list[str] | None = None
    outcome: Outcome = "SUCCEEDED"


@dataclass
class ExecutionResult:
    """What the job produced, for completionStats / outputInfo / predictionOutput."""

    successful: int = 0
    failed: int = 0
    output_directory: str | None = None
    bigquery_dataset: str | None = None
    bigquery_table: str | None = None
    partial_failures: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None


Executor = Callable[[ExecutionRequest], ExecutionResult]


def predict(instance: Any) -> dict[str, Any]:
    """The double's model: a stable score per instance (tests recompute it)."""
    blob = json.dumps(instance, sort_keys=True, separators=(",", ":")).encode()
    return {"score": (zlib.crc32(blob) % 1000) / 1000}


def vertex_output_folder(request: ExecutionRequest, when: datetime) -> str:
    """`<prefix>/prediction-<displayName>-<timestamp>`, named when the work starts."""
    assert request.output_prefix is not None
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{request.output_prefix.rstrip('/')}/prediction-{request.display_name}-{stamp}"


def fails(index: int, outcome: Outcome) -> bool:
    """Which instances fail in a PARTIALLY_SUCCEEDED run: every third one."""
    return outcome == "PARTIALLY_SUCCEEDED" and index % 3 == 2


def _transform(instance: Any, request: ExecutionRequest) -> Any:
    """The instance the model sees (instanceConfig applied)."""
    if not isinstance(instance, dict):
        return instance
    data = dict(instance)
    if request.key_field:
        data.pop(request.key_field, None)
    if request.included_fields is not None:
        data = {k: v for k, v in data.items() if k in request.included_fields}
    for name in request.excluded_fields or []:
        data.pop(name, None)
    return data


@dataclass
class FileExecutor:
    """The default executor: files in, files out (see the module docstring)."""

    style: str = "jsonl"  # jsonl | shards
    # The service names the folder when the work starts, not at createTime;
    # the offset makes sure nothing can find outputs by rebuilding the name.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC) + timedelta(seconds=7))
    runs: list[ExecutionRequest] = field(default_factory=list)

    def __call__(self, request: ExecutionRequest) -> ExecutionResult:
        self.runs.append(request)
        if request.outcome == "FAILED":
            return ExecutionResult(error={"code": 13, "message": "injected failure: model crashed"})
        if request.bigquery_source:
            from batchspec.io.bigquery import read_rows

            instances = list(read_rows(request.bigquery_source))
        else:
            instances = list(read_instances(request.input_uris))
        if request.bigquery_destination:
            return self._bigquery(request, instances)
        if request.output_prefix is None:
            return ExecutionResult(error={"code": 12, "message": "no output destination"})
        if request.api == "mlengine":
            return self._mlengine(request, instances)
        return self._vertex(request, instances)

    def _vertex(self, request: ExecutionRequest, instances: list[Any]) -> ExecutionResult:
        folder = vertex_output_folder(request, self.clock())
        good: list[str] = []
        bad: list[str] = []
        for i, instance in enumerate(instances):
            ident: dict[str, Any]
            if request.key_field and isinstance(instance, dict):
                ident = {"key": instance.get(request.key_field)}
            else:
                ident = {"instance": instance}
            if fails(i, request.outcome):
                error = {"code": 3, "message": f"instance {i} could not be scored"}
                bad.append(json.dumps({**ident, "error": error}))
            else:
                good.append(
                    json.dumps({**ident, "prediction": predict(_transform(instance, request))})
                )
        if self.style == "shards":
            storage.write_text(f"{folder}/prediction.results-00000-of-00001", _lines(good))
            stats = [repr((json.loads(b).get("error", {}).get("message", ""), 1)) for b in bad]
            storage.write_text(f"{folder}/prediction.errors_stats-00000-of-00001", _lines(stats))
        else:
            storage.write_text(f"{folder}/predictions_0001.jsonl", _lines(good))
            if bad:
                storage.write_text(f"{folder}/errors_0001.jsonl", _lines(bad))
        failures = (
            [{"code": 3, "message": f"{len(bad)} instance(s) could not be scored"}] if bad else []
        )
        return ExecutionResult(len(good), len(bad), folder, partial_failures=failures)

    def _bigquery(self, request: ExecutionRequest, instances: list[Any]) -> ExecutionResult:
        """Vertex's BigQuery layout: instance columns plus `prediction`, and an
        errors table with instance columns plus `errors` (code, message)."""
        from batchspec.io.bigquery import write_job_output

        assert request.bigquery_destination is not None
        good: list[dict[str, Any]] = []
        bad: list[dict[str, Any]] = []
        for i, instance in enumerate(instances):
            if fails(i, request.outcome):
                status = {"code": 3, "message": f"row {i} could not be scored"}
                bad.append({**instance, "errors": status})
            else:
                good.append({**instance, "prediction": predict(_transform(instance, request))})
        tables = write_job_output(
            request.bigquery_destination,
            good,
            bad,
            name=request.display_name,
            when=self.clock(),
        )
        failures = [{"code": 3, "message": f"{len(bad)} row(s) failed"}] if bad else []
        return ExecutionResult(
            len(good),
            len(bad),
            bigquery_dataset=tables.dataset_uri,
            bigquery_table=tables.predictions,
            partial_failures=failures,
        )

    def _mlengine(self, request: ExecutionRequest, instances: list[Any]) -> ExecutionResult:
        assert request.output_prefix is not None
        folder = request.output_prefix.rstrip("/")
        good: list[str] = []
        errors: dict[str, int] = {}
        for i, instance in enumerate(instances):
            if fails(i, request.outcome):
                message = "Prediction failed: input could not be parsed"
                errors[message] = errors.get(message, 0) + 1
                continue
            output = dict(predict(instance))
            if isinstance(instance, dict) and "key" in instance:
                output = {"key": instance["key"], **output}
            good.append(json.dumps(output))
        storage.write_text(f"{folder}/prediction.results-00000-of-00001", _lines(good))
        stats = [repr((message, count)) for message, count in errors.items()]
        storage.write_text(f"{folder}/prediction.errors_stats-00000-of-00001", _lines(stats))
        return ExecutionResult(len(good), sum(errors.values()), folder)


def _lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
