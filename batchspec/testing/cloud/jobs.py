"""The jobs the REST double holds, and how each walks through its states.

`JobLife` is the half of `CloudDouble` that moves jobs along: one step per
read (or per `step_seconds`), the executor doing the work when a job has
run its path, and the service's own fields (`completionStats`,
`outputInfo`, `predictionOutput`, `error`) filled from what it produced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from batchspec.model.jobs import LABEL_FINGERPRINT
from batchspec.testing.cloud.executor import ExecutionRequest, ExecutionResult, Executor
from batchspec.testing.cloud.faults import STATUS_NAMES
from batchspec.testing.cloud.logging_api import LogStore

VERTEX_PATH = ["JOB_STATE_PENDING", "JOB_STATE_RUNNING"]
ML_PATH = ["QUEUED", "PREPARING", "RUNNING"]
VERTEX_TERMINAL = {
    "JOB_STATE_SUCCEEDED",
    "JOB_STATE_FAILED",
    "JOB_STATE_CANCELLED",
    "JOB_STATE_EXPIRED",
    "JOB_STATE_PARTIALLY_SUCCEEDED",
}
ML_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


class AnswerError(Exception):
    """An error answer: status, canonical reason, message."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or STATUS_NAMES.get(status, "UNKNOWN")
        self.message = message


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class StoredJob:
    """A job the double holds: its REST resource and its remaining path."""

    kind: str  # vertex | genai | mlengine
    name: str
    resource: dict[str, Any]
    path: list[str]
    outcome: str
    reads: int = 0
    stepped_at: float = field(default_factory=time.monotonic)

    @property
    def state(self) -> str:
        return str(self.resource["state"])

    @property
    def terminal(self) -> bool:
        return self.state in (ML_TERMINAL if self.kind == "mlengine" else VERTEX_TERMINAL)

    @property
    def fingerprint(self) -> str | None:
        labels = self.resource.get("labels") or {}
        return labels.get(LABEL_FINGERPRINT)


@dataclass
class Call:
    """One request the double received."""

    kind: str
    call: str
    http_method: str
    path: str
    body: Any
    status: int = 200


class JobLife:
    """Moving the double's jobs along (mixed into `CloudDouble`)."""

    executor: Executor
    executor_failures: list[str]
    logs: LogStore

    def _cancel(self, job: StoredJob) -> None:
        if job.kind == "mlengine":
            job.resource["state"] = "CANCELLING"
            job.path = ["CANCELLED"]
        else:
            job.resource["state"] = "JOB_STATE_CANCELLING"
            job.path = ["JOB_STATE_CANCELLED"]
            job.resource["updateTime"] = now()

    def _step(self, job: StoredJob) -> None:
        if job.terminal:
            return
        if job.path:
            state = job.path.pop(0)
            self._enter(job, state)
            return
        # Path exhausted while RUNNING: the work is done now.
        self._execute(job)

    def _enter(self, job: StoredJob, state: str) -> None:
        job.resource["state"] = state
        self.logs.job_entered(job.name, state)
        if job.kind != "mlengine":
            job.resource["updateTime"] = now()
        if state.endswith("RUNNING"):
            job.resource["startTime"] = now()
        if state in VERTEX_TERMINAL or state in ML_TERMINAL:
            job.resource["endTime"] = now()
        if state == "JOB_STATE_EXPIRED":
            job.resource["error"] = {
                "code": 4,
                "message": "the job waited for resources longer than its deadline",
            }

    def _execute(self, job: StoredJob) -> None:
        request = self._execution_request(job)
        try:
            result = self.executor(request)
        except Exception as exc:  # an executor bug fails the job, visibly
            self.executor_failures.append(f"{job.name}: {exc!r}")
            result = ExecutionResult(error={"code": 13, "message": f"executor failed: {exc}"})
        if job.kind == "mlengine":
            self._finish_mlengine(job, result)
        else:
            self._finish_vertex(job, result)

    def _finish_vertex(self, job: StoredJob, result: ExecutionResult) -> None:
        res = job.resource
        res["completionStats"] = {
            "successfulCount": str(result.successful),
            "failedCount": str(result.failed),
            "incompleteCount": "0",
        }
        if result.output_directory:
            res["outputInfo"] = {"gcsOutputDirectory": result.output_directory}
        elif result.bigquery_dataset:
            res["outputInfo"] = {
                "bigqueryOutputDataset": result.bigquery_dataset,
                "bigqueryOutputTable": result.bigquery_table or "predictions",
            }
        if result.partial_failures:
            res["partialFailures"] = result.partial_failures
        if result.error is not None:
            res["error"] = result.error
            state = "JOB_STATE_FAILED"
        elif result.failed:
            state = "JOB_STATE_PARTIALLY_SUCCEEDED"
        else:
            state = "JOB_STATE_SUCCEEDED"
        self._enter(job, state)

    def _finish_mlengine(self, job: StoredJob, result: ExecutionResult) -> None:
        res = job.resource
        res["predictionOutput"] = {
            "outputPath": res["predictionInput"]["outputPath"],
            "predictionCount": str(result.successful),
            "errorCount": str(result.failed),
            "nodeHours": 0.01,
        }
        if result.error is not None:
            res["errorMessage"] = result.error["message"]
            self._enter(job, "FAILED")
        else:
            self._enter(job, "SUCCEEDED")

    def _execution_request(self, job: StoredJob) -> ExecutionRequest:
        res = job.resource
        if job.kind == "mlengine":
            pin = res["predictionInput"]
            return ExecutionRequest(
                api="mlengine",
                name=job.name,
                display_name=res["jobId"],
                input_uris=list(pin["inputPaths"]),
                input_format=pin["dataFormat"],
                output_prefix=pin["outputPath"],
                outcome=job.outcome,
            )
        inp, out = res["inputConfig"], res["outputConfig"]
        instance = res.get("instanceConfig") or {}
        return ExecutionRequest(
            api=job.kind,
            name=job.name,
            display_name=res.get("displayName", ""),
            input_uris=list((inp.get("gcsSource") or {}).get("uris", [])),
            input_format=inp["instancesFormat"],
            output_prefix=(out.get("gcsDestination") or {}).get("outputUriPrefix"),
            bigquery_source=(inp.get("bigquerySource") or {}).get("inputUri"),
            bigquery_destination=(out.get("bigqueryDestination") or {}).get("outputUri"),
            key_field=instance.get("keyField"),
            included_fields=instance.get("includedFields"),
            excluded_fields=instance.get("excludedFields"),
            outcome=job.outcome,
        )
