"""An executor that runs the double's jobs on the real local engine.

`CloudDouble(executor=EngineExecutor(home))`: when a job reaches RUNNING, its
request is turned into a `target: local` spec (same inputs, instanceConfig,
formats and destination) with `DoubleModel` as the model, submitted to a
`LocalBackend` under `home` and followed to its end. So the outputs in
fake-gcs-server (or bqemulator) are exactly what the engine writes, and the
job's completionStats, outputInfo and error come from the engine's job:

* Vertex / genai: the engine writes into `<prefix>/prediction-<displayName>-<ts>`
  (named when the work starts, as the service does), and that folder is the
  job's `gcsOutputDirectory`; a BigQuery destination gets the engine's
  Vertex-layout tables.
* ML Engine: straight into `outputPath`.

The engine's supervisor runs as its own process (`LocalBackend.submit`), as
it does for users: the double serves HTTP from threads, and forking worker
processes from a threaded process is unsafe.

An injected outcome reaches the model: PARTIALLY_SUCCEEDED makes it refuse
the instances `refuses(...)` picks (by content, since the engine shards and
batches in its own order), FAILED makes it fail to load.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from batchspec.backends.base import wait_for
from batchspec.backends.local import LocalBackend
from batchspec.compile import compile_spec
from batchspec.model.enums import JobState, Target
from batchspec.model.jobs import RemoteJob
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.testing.cloud.executor import (
    ExecutionRequest,
    ExecutionResult,
    predict,
    vertex_output_folder,
)

# The services' input format names -> batchspec's.
INPUT_FORMATS = {
    "jsonl": "JSONL",
    "csv": "CSV",
    "tf-record": "TF_RECORD",
    "tf-record-gzip": "TF_RECORD_GZIP",
    "file-list": "FILE_LIST",
    "bigquery": "BIGQUERY",
    "JSON": "JSONL",
    "TEXT": "TEXT",
    "TF_RECORD": "TF_RECORD",
    "TF_RECORD_GZIP": "TF_RECORD_GZIP",
}


def refuses(instance: Any) -> bool:
    """Which instances the model refuses in a PARTIALLY_SUCCEEDED run: about
    one in three, chosen by content (tests recompute it)."""
    return zlib.crc32(repr(predict(instance)).encode()) % 3 == 2


class DoubleModel:
    """The double's model for the engine: `predict` per instance (the same
    scores as the file executor), refusing some instances or failing to load
    as the injected outcome says. Loaded by the engine's python runner."""

    def __init__(self, outcome: str = "SUCCEEDED") -> None:
        if outcome == "FAILED":
            raise RuntimeError("injected failure: model crashed")
        self.outcome = outcome

    def predict(self, instances: list[Any]) -> list[Any]:
        out = []
        for instance in instances:
            if self.outcome == "PARTIALLY_SUCCEEDED" and refuses(instance):
                raise ValueError("injected failure: instance could not be scored")
            out.append(predict(instance))
        return out


@dataclass
class EngineExecutor:
    """Runs each job on the local engine (see the module docstring)."""

    home: Path
    timeout: float = 120.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC) + timedelta(seconds=7))
    runs: list[RemoteJob] = field(default_factory=list)

    def __call__(self, request: ExecutionRequest) -> ExecutionResult:
        spec = self.spec_for(request)
        backend = LocalBackend(self.home)
        submitted = backend.submit(compile_spec(spec, target=Target.LOCAL))
        job = wait_for(backend, submitted.remote_name, timeout=self.timeout)
        self.runs.append(job)
        if not job.terminal:
            return ExecutionResult(error={"code": 4, "message": f"engine job {job.state.value}"})
        result = ExecutionResult(job.completed_count, job.failed_count)
        if job.state is JobState.FAILED:
            result.error = {"code": 13, "message": job.error or "the engine job failed"}
        elif job.failed_count:
            result.partial_failures = [
                {"code": 3, "message": f"{job.failed_count} instance(s) could not be scored"}
            ]
        location = job.output_location or ""
        if location.startswith("bq://"):
            dataset, _, table = location.rpartition(".")
            result.bigquery_dataset, result.bigquery_table = dataset, table
        else:
            result.output_directory = location
        return result

    def spec_for(self, request: ExecutionRequest) -> BatchPredictionJobSpec:
        """The `target: local` spec that does the request's work."""
        inp: dict[str, Any] = {"format": INPUT_FORMATS[request.input_format]}
        if request.bigquery_source:
            inp["bigquery"] = request.bigquery_source
        else:
            inp["paths"] = list(request.input_uris)
        for key, value in (
            ("keyField", request.key_field),
            ("includedFields", request.included_fields),
            ("excludedFields", request.excluded_fields),
        ):
            if value:
                inp[key] = value
        if request.bigquery_destination:
            out: dict[str, Any] = {"format": "BIGQUERY", "bigquery": request.bigquery_destination}
        elif request.api == "mlengine":
            out = {"path": request.output_prefix}
        else:
            out = {"path": vertex_output_folder(request, self.clock())}
        model = {
            "runner": "python",
            "callable": "batchspec.testing.cloud.engine:DoubleModel",
            "initArgs": {"outcome": request.outcome},
        }
        name = "".join(c if c.isalnum() else "_" for c in request.display_name) or "job"
        return BatchPredictionJobSpec.model_validate(
            {
                "apiVersion": "batchspec.dev/v1",
                "kind": "BatchPredictionJob",
                "metadata": {"name": name if name[0].isalpha() else f"j_{name}"},
                "spec": {
                    "target": "local",
                    "model": {"local": model},
                    "input": inp,
                    "output": out,
                    "resources": {"maxWorkerCount": 2},
                },
            }
        )
