"""A local HTTP double of the batch prediction REST APIs, for the real clients.

It speaks three APIs on one port:

* Vertex AI v1 `projects.locations.batchPredictionJobs` (what
  google-cloud-aiplatform's JobServiceClient calls over REST) and
  `projects.locations.models` with its upload operations (ModelServiceClient;
  see `models.py`),
* the same resource under v1beta1 (what google-genai calls),
* Cloud ML Engine v1 `projects.jobs` (what google-api-python-client calls).

Like the real front end it routes by the discovery documents' URL templates
(`batchspec.compile.discovery.match_path`), refuses request bodies that break
the discovery schema with 400 (and records them in `rejected`), checks each
answer against the response schema (a mismatch is a bug in the double and is
recorded in `errors`), assigns ids, answers enums as numbers when the client
asks for `enum-encoding=int`, filters and pages lists, and walks each job
through its states one step per read (or on `advance`/`finish`). When a job
starts running the pluggable executor does the work and the job's stats and
`outputInfo` come from what it wrote.

Faults come from `faults` (see `faults.py`); `end_next_job_as` makes the next
created job end PARTIALLY_SUCCEEDED, FAILED or EXPIRED; `cancel_from_outside`
cancels a job as a person in the console would.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from batchspec.testing.cloud.executor import Executor, FileExecutor
from batchspec.testing.cloud.faults import Faults
from batchspec.testing.cloud.jobs import ML_PATH, AnswerError, Call, JobLife, StoredJob, now
from batchspec.testing.cloud.listing import filter_matches as _filter_matches
from batchspec.testing.cloud.listing import page as _page
from batchspec.testing.cloud.logging_api import LogStore
from batchspec.testing.cloud.models import ModelRegistry, StoredModel, StoredOperation
from batchspec.testing.cloud.wire import Handler
from batchspec.testing.httpdouble import ServedDouble

DEFAULT_PAGE_SIZE = 50


@dataclass
class CloudDouble(JobLife, ModelRegistry, ServedDouble):
    """The server. Start with `start()` (or use as a context manager)."""

    handler = Handler

    executor: Executor = field(default_factory=FileExecutor)
    advance_on_read: bool = True
    # When set, jobs move one step per `step_seconds` of (monotonic) time
    # instead of one step per read: a job keeps its state however often it is
    # polled, like the service.
    step_seconds: float | None = None
    clock: Any = time.monotonic
    page_size: int = DEFAULT_PAGE_SIZE
    faults: Faults = field(default_factory=Faults)
    jobs: dict[str, StoredJob] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    rejected: list[tuple[str, list[str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    executor_failures: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    models: dict[str, StoredModel] = field(default_factory=dict)
    operations: dict[str, StoredOperation] = field(default_factory=dict)
    upload_reads: int = 1  # reads of an upload's operation before it is done
    failing_uploads: list[str] = field(default_factory=list)
    logs: LogStore = field(default_factory=LogStore)  # Cloud Logging entries:list

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = iter(range(1_000_000_000_000_000_001, 2_000_000_000_000_000_000, 7919))

    # --- test controls ---------------------------------------------------------------

    def end_next_job_as(self, outcome: str) -> None:
        """The next created job ends SUCCEEDED, PARTIALLY_SUCCEEDED, FAILED or EXPIRED."""
        with self._lock:
            self.outcomes.append(outcome)

    def cancel_from_outside(self, name: str) -> None:
        """Cancel a job behind batchspec's back (the console, gcloud, a colleague)."""
        with self._lock:
            job = self.jobs[name]
            self._cancel(job)

    def advance(self, name: str) -> str:
        """Move a job one step along its path; returns the new state."""
        with self._lock:
            job = self.jobs[name]
            self._step(job)
            return job.state

    def finish(self, name: str) -> str:
        """Run a job to its end state."""
        with self._lock:
            job = self.jobs[name]
            while not job.terminal:
                self._step(job)
            return job.state

    def create_calls(self, kind: str | None = None) -> list[Call]:
        """Every create request received (answered or not)."""
        return [c for c in self.calls if c.call == "create" and kind in (None, c.kind)]

    def jobs_with(self, fingerprint_label: str) -> list[StoredJob]:
        """Jobs created with this fingerprint label: exactly-once means one."""
        return [j for j in self.jobs.values() if j.fingerprint == fingerprint_label]

    # --- job life -----------------------------------------------------------------------

    # --- request handling ------------------------------------------------------------------

    def handle(
        self, kind: str, call: str, params: dict[str, str], body: Any, query: dict[str, str]
    ) -> Any:
        """The answer to one routed call (raises AnswerError for error answers)."""
        with self._lock:
            if kind == "mlengine":
                return self._ml(call, params, body, query)
            if kind == "models":
                return self._models_call(call, params, body, query)
            if kind == "operations":
                return self._operations_call(call, params)
            return self._vertex(kind, call, params, body, query)

    def _on_list(self, kinds: tuple[str, ...]) -> None:
        """A list shows every job's current state: with a clock (`step_seconds`)
        jobs move on in time whoever asks; per-read stepping ignores lists, so
        tests that count steps per `get` stay exact."""
        if self.step_seconds is None:
            return
        for job in self.jobs.values():
            if job.kind in kinds and not job.terminal:
                self._on_read(job)

    def _on_read(self, job: StoredJob) -> None:
        """Move a job along as time or reads pass."""
        if self.step_seconds is not None:
            steps = int((self.clock() - job.stepped_at) / self.step_seconds)
            for _ in range(steps):
                self._step(job)
            if steps:
                job.stepped_at = self.clock()
        elif self.advance_on_read:
            self._step(job)

    def _list(
        self, kinds: tuple[str, ...], key: str, params: dict[str, str], query: dict[str, str]
    ) -> dict[str, Any]:
        """One page of the jobs under `parent` that match the filter."""
        parent = params["parent"]
        self._on_list(kinds)
        found = [
            j.resource
            for j in self.jobs.values()
            if j.kind in kinds
            and j.name.startswith(parent + "/")
            and _filter_matches(query.get("filter", ""), j.resource)
        ]
        items, token = _page(found, query, self.page_size)
        answer: dict[str, Any] = {key: items}
        if token:
            answer["nextPageToken"] = token
        return answer

    def _next_outcome(self) -> str:
        return self.outcomes.pop(0) if self.outcomes else "SUCCEEDED"

    def _get(self, name: str) -> dict[str, Any]:
        """A job's resource; reading it may move it on."""
        job = self._read(name)
        job.reads += 1
        self._on_read(job)
        return job.resource

    def _read(self, name: str) -> StoredJob:
        job = self.jobs.get(name)
        if job is None:
            raise AnswerError(404, f"job {name} not found")
        return job

    def _vertex(
        self, kind: str, call: str, params: dict[str, str], body: Any, query: dict[str, str]
    ) -> Any:
        if call == "create":
            self._check_job_model(str(body.get("model", "")))
            parent = params["parent"]
            name = f"{parent}/batchPredictionJobs/{next(self._ids)}"
            stamp = now()
            resource = {
                **body,
                "name": name,
                "state": "JOB_STATE_PENDING",
                "createTime": stamp,
                "updateTime": stamp,
            }
            outcome = self._next_outcome()
            path = ["JOB_STATE_EXPIRED"] if outcome == "EXPIRED" else ["JOB_STATE_RUNNING"]
            self.jobs[name] = StoredJob(kind, name, resource, path, outcome)
            return resource
        if call == "get":
            return self._get(params["name"])
        if call == "list":
            return self._list(("vertex", "genai"), "batchPredictionJobs", params, query)
        if call == "cancel":
            job = self._read(params["name"])
            if job.terminal:
                raise AnswerError(
                    400,
                    f"job {job.name} is already in a final state {job.state}",
                    "FAILED_PRECONDITION",
                )
            self._cancel(job)
            return {}
        if call == "delete":
            job = self._read(params["name"])
            if not job.terminal:
                raise AnswerError(
                    400, f"job {job.name} is not finished ({job.state})", "FAILED_PRECONDITION"
                )
            del self.jobs[job.name]
            return {"name": f"{job.name}/operations/{next(self._ids)}", "done": True}
        raise AnswerError(404, f"the double does not serve {call}")

    def _ml(self, call: str, params: dict[str, str], body: Any, query: dict[str, str]) -> Any:
        if call == "create":
            name = f"{params['parent']}/jobs/{body['jobId']}"
            if name in self.jobs:
                raise AnswerError(
                    409,
                    f"Field: job.job_id Error: A job with this id already exists: {body['jobId']}",
                )
            resource = {**body, "state": "QUEUED", "createTime": now(), "etag": "ZXRhZw=="}
            outcome = self._next_outcome()
            self.jobs[name] = StoredJob("mlengine", name, resource, ML_PATH[1:], outcome)
            return resource
        if call == "get":
            return self._get(params["name"])
        if call == "list":
            return self._list(("mlengine",), "jobs", params, query)
        if call == "cancel":
            job = self._read(params["name"])
            if job.terminal:
                raise AnswerError(400, f"job {job.name} is already finished", "FAILED_PRECONDITION")
            self._cancel(job)
            return {}
        raise AnswerError(404, f"the double does not serve {call}")
