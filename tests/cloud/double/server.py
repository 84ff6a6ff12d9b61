"""A local HTTP double of the batch prediction REST APIs, for the real clients.

It speaks three APIs on one port:

* Vertex AI v1 `projects.locations.batchPredictionJobs` (what
  google-cloud-aiplatform's JobServiceClient calls over REST),
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

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from batchspec.backends.cloud import VERTEX_STATE_ORDER
from batchspec.compile.discovery import match_path, request_problems, schema_problems
from batchspec.model.jobs import LABEL_FINGERPRINT
from tests.cloud.double.executor import ExecutionRequest, ExecutionResult, Executor, FileExecutor
from tests.cloud.double.faults import STATUS_NAMES, Faults
from tests.cloud.double.logging_api import PATH as LOGGING_PATH
from tests.cloud.double.logging_api import LogStore

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
DEFAULT_PAGE_SIZE = 50
_STATE_NUMBER = {f"JOB_STATE_{s.value}": i for i, s in enumerate(VERTEX_STATE_ORDER)}
_FILTER_TERM = re.compile(
    r'^\s*(labels\.[A-Za-z0-9_-]+|display_name|state)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$'
)


class HttpFailure(Exception):
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


@dataclass
class CloudDouble:
    """The server. Start with `start()` (or use as a context manager)."""

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
    logs: LogStore = field(default_factory=LogStore)  # Cloud Logging entries:list

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = iter(range(1_000_000_000_000_000_001, 2_000_000_000_000_000_000, 7919))
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> CloudDouble:
        double = self

        class Handler(_Handler):
            owner = double

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> CloudDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

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

    # --- request handling ------------------------------------------------------------------

    def handle(
        self, kind: str, call: str, params: dict[str, str], body: Any, query: dict[str, str]
    ) -> Any:
        """The answer to one routed call (raises HttpFailure for error answers)."""
        with self._lock:
            if kind == "mlengine":
                return self._ml(call, params, body, query)
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

    def _next_outcome(self) -> str:
        return self.outcomes.pop(0) if self.outcomes else "SUCCEEDED"

    def _read(self, name: str) -> StoredJob:
        job = self.jobs.get(name)
        if job is None:
            raise HttpFailure(404, f"job {name} not found")
        return job

    def _vertex(
        self, kind: str, call: str, params: dict[str, str], body: Any, query: dict[str, str]
    ) -> Any:
        if call == "create":
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
            job = self._read(params["name"])
            job.reads += 1
            self._on_read(job)
            return job.resource
        if call == "list":
            parent = params["parent"]
            self._on_list(("vertex", "genai"))
            found = [
                j.resource
                for j in self.jobs.values()
                if j.kind in ("vertex", "genai")
                and j.name.startswith(parent + "/")
                and _filter_matches(query.get("filter", ""), j.resource)
            ]
            items, token = _page(found, query, self.page_size)
            answer: dict[str, Any] = {"batchPredictionJobs": items}
            if token:
                answer["nextPageToken"] = token
            return answer
        if call == "cancel":
            job = self._read(params["name"])
            if job.terminal:
                raise HttpFailure(
                    400,
                    f"job {job.name} is already in a final state {job.state}",
                    "FAILED_PRECONDITION",
                )
            self._cancel(job)
            return {}
        if call == "delete":
            job = self._read(params["name"])
            if not job.terminal:
                raise HttpFailure(
                    400, f"job {job.name} is not finished ({job.state})", "FAILED_PRECONDITION"
                )
            del self.jobs[job.name]
            return {"name": f"{job.name}/operations/{next(self._ids)}", "done": True}
        raise HttpFailure(404, f"the double does not serve {call}")

    def _ml(self, call: str, params: dict[str, str], body: Any, query: dict[str, str]) -> Any:
        if call == "create":
            name = f"{params['parent']}/jobs/{body['jobId']}"
            if name in self.jobs:
                raise HttpFailure(
                    409,
                    f"Field: job.job_id Error: A job with this id already exists: {body['jobId']}",
                )
            resource = {**body, "state": "QUEUED", "createTime": now(), "etag": "ZXRhZw=="}
            outcome = self._next_outcome()
            self.jobs[name] = StoredJob("mlengine", name, resource, ML_PATH[1:], outcome)
            return resource
        if call == "get":
            job = self._read(params["name"])
            job.reads += 1
            self._on_read(job)
            return job.resource
        if call == "list":
            parent = params["parent"]
            self._on_list(("mlengine",))
            found = [
                j.resource
                for j in self.jobs.values()
                if j.kind == "mlengine"
                and j.name.startswith(parent + "/")
                and _filter_matches(query.get("filter", ""), j.resource)
            ]
            items, token = _page(found, query, self.page_size)
            answer: dict[str, Any] = {"jobs": items}
            if token:
                answer["nextPageToken"] = token
            return answer
        if call == "cancel":
            job = self._read(params["name"])
            if job.terminal:
                raise HttpFailure(400, f"job {job.name} is already finished", "FAILED_PRECONDITION")
            self._cancel(job)
            return {}
        raise HttpFailure(404, f"the double does not serve {call}")


def _filter_matches(text: str, resource: dict[str, Any]) -> bool:
    """The subset of AIP-160 the backends send: `a="b" AND c="d"`."""
    if not text.strip():
        return True
    for term in text.split(" AND "):
        found = _FILTER_TERM.match(term)
        if not found:
            raise HttpFailure(400, f"unsupported filter term {term!r}")
        key, value = found.group(1), re.sub(r"\\(.)", r"\1", found.group(2))
        if key.startswith("labels."):
            if (resource.get("labels") or {}).get(key[len("labels.") :]) != value:
                return False
        elif key == "display_name":
            if resource.get("displayName") != value:
                return False
        elif resource.get("state") != value:
            return False
    return True


def _page(
    items: list[Any], query: dict[str, str], default_size: int
) -> tuple[list[Any], str | None]:
    size = int(query.get("pageSize") or default_size) or default_size
    token = query.get("pageToken") or ""
    start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    chunk = items[start : start + size]
    end = start + size
    next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return chunk, next_token


def _names_for_enums(body: Any) -> Any:
    """The request with enum numbers turned into names, as the service's proto
    JSON parser reads them (`enum-encoding=int` clients send numbers). Parsed
    with the client library's own message type; fields it does not know are
    left for the schema check to report."""
    from google.cloud import aiplatform_v1

    message = aiplatform_v1.BatchPredictionJob.from_json(
        json.dumps(body), ignore_unknown_fields=True
    )
    named = aiplatform_v1.BatchPredictionJob.to_dict(
        message, use_integers_for_enums=False, preserving_proto_field_name=False
    )

    def merge(raw: Any, parsed: Any) -> Any:
        if isinstance(raw, dict) and isinstance(parsed, dict):
            return {k: merge(v, parsed.get(k)) for k, v in raw.items()}
        if isinstance(raw, list) and isinstance(parsed, list) and len(raw) == len(parsed):
            return [merge(a, b) for a, b in zip(raw, parsed, strict=True)]
        if isinstance(raw, int) and not isinstance(raw, bool) and isinstance(parsed, str):
            return parsed
        return raw

    return merge(body, named)


def _ints_for_enums(value: Any) -> Any:
    """`state` as its number, as `enum-encoding=int` asks."""
    if isinstance(value, dict):
        return {
            k: (
                _STATE_NUMBER.get(v, v)
                if k == "state" and isinstance(v, str)
                else _ints_for_enums(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_ints_for_enums(v) for v in value]
    return value


_APIS = {
    "vertex": ("aiplatform", "v1"),
    "genai": ("aiplatform", "v1beta1"),
    "mlengine": ("ml", "v1"),
}


def _route(http_method: str, path: str) -> tuple[str, Any, dict[str, str]] | None:
    if path.startswith("/v1beta1/"):
        kind = "genai"
    elif "/batchPredictionJobs" in path:
        kind = "vertex"
    elif path.startswith("/v1/projects/") and "/jobs" in path:
        kind = "mlengine"
    else:
        return None
    api, version = _APIS[kind]
    found = match_path(api, version, http_method, path)
    if found is None:
        return None
    method, params = found
    if "batchPredictionJobs" not in method.id and not method.id.startswith("ml.projects.jobs."):
        return None
    return kind, method, params


class _Handler(BaseHTTPRequestHandler):
    owner: CloudDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _serve(self, http_method: str) -> None:
        double = self.owner
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        ints = "enum-encoding=int" in unquote(split.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            self._answer(400, _error(400, "request body is not JSON", "INVALID_ARGUMENT"))
            return
        if http_method == "POST" and split.path == LOGGING_PATH:
            self._answer(*double.logs.answer(body))
            return
        routed = _route(http_method, split.path)
        if routed is None:
            self._answer(
                404, _error(404, f"no such method: {http_method} {split.path}", "NOT_FOUND")
            )
            return
        kind, method, params = routed
        call = method.id.rsplit(".", 1)[-1]
        record = Call(kind, call, http_method, split.path, body)
        with double._lock:
            double.calls.append(record)
        fault = double.faults.take(call, kind)
        if fault is not None and fault.kind == "status":
            record.status = fault.status
            self._answer(
                fault.status, _error(fault.status, fault.message, STATUS_NAMES.get(fault.status))
            )
            return
        if ints and kind == "vertex" and call == "create":
            body = _names_for_enums(body)
            record.body = body
        if method.request is not None:
            problems = [
                str(p)
                for p in request_problems(method.api, method.version, method.id, body, params)
            ]
            if problems:
                double.rejected.append((method.id, problems))
                record.status = 400
                self._answer(400, _error(400, "; ".join(problems), "INVALID_ARGUMENT"))
                return
        try:
            answer = double.handle(kind, call, params, body, query)
        except HttpFailure as failure:
            record.status = failure.status
            self._answer(failure.status, _error(failure.status, failure.message, failure.reason))
            return
        if method.response is not None:
            problems = [
                str(p)
                for p in schema_problems(
                    method.api, method.version, method.response, answer, direction="response"
                )
            ]
            if problems:
                double.errors.append(f"{method.id} answer breaks its schema: {problems}")
        if ints:
            answer = _ints_for_enums(answer)
        if fault is not None and fault.kind == "drop":
            record.status = -1
            self.close_connection = True
            return
        if fault is not None and fault.kind == "timeout":
            record.status = -1
            time.sleep(fault.delay)
        self._answer(200, answer)

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _error(status: int, message: str, reason: str | None) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": reason or "UNKNOWN"}}


def iter_states(double: CloudDouble, name: str) -> Iterator[str]:
    """States a job passes through when advanced to its end (for tests)."""
    while True:
        state = double.advance(name)
        yield state
        if double.jobs[name].terminal:
            return
