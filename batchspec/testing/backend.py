"""A backend double: the `Backend` Protocol in memory (or in a file), with faults.

It behaves like a batch service as far as the controller can tell:

* jobs move QUEUED -> RUNNING -> an outcome (SUCCEEDED by default) one step
  per `advance()`; with `auto_advance` every list call advances them, so a
  controller's polling drives them to the end;
* `list` pages (`page_size`) and counts one call per page, so tests can check
  that a reconcile pass costs O(pages), not O(jobs);
* `submit` is idempotent by fingerprint label, as the Protocol requires, or,
  with `idempotent=False`, creates blindly, like a service with no client
  request id; the controller's own list-before-create must then keep
  submissions exactly-once;
* faults are injected per call point: `throttled` (429) and `unavailable`
  (503) as TemporaryBackendError, `timeout` (AmbiguousSubmitError; the create
  did not happen) and `timeout_created` (it did), `permanent`, and `crash`
  (SimulatedCrash, the in-process stand-in for kill -9);
* jobs can be changed outside batchspec: cancelled, deleted, relabelled,
  created by someone else with batchspec's labels.

`ListingBackend` is the same service without request ids, as Vertex AI is:
its `submit` lists by fingerprint before creating (counted), and its `create`
(the `Creates` capability) does not. `batchspec.testing.files.FileBackend`
keeps the state in a JSON file under an exclusive lock, so several processes
(an apply killed with SIGKILL and the one that follows) see one service.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from batchspec.errors import (
    AmbiguousSubmitError,
    JobNotFoundError,
    PermanentBackendError,
    TemporaryBackendError,
)
from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob, RemoteJob
from batchspec.testing.service import LIFECYCLE, FakeJob, Service

FAULTS = ("throttled", "unavailable", "timeout", "timeout_created", "permanent", "crash")


class SimulatedCrash(BaseException):
    """Raised at a chosen call point: the process 'dies' there (not an Exception,
    so no `except Exception` in the code under test can swallow it)."""


Outcome = Callable[[FakeJob], JobState]


def _succeed(job: FakeJob) -> JobState:
    return JobState.SUCCEEDED


@dataclass(eq=False)
class FakeBackend:
    """The in-memory backend double (its constructor takes the knobs below)."""

    name: str = "local"
    _: KW_ONLY
    page_size: int = 50
    idempotent: bool = True
    auto_advance: bool = False
    steps_per_state: int = 1
    total: int = 100
    outcome: Outcome = _succeed
    output_root: Path | None = None
    cancel_takes_effect: bool = True
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    hits: Counter[str] = field(default_factory=Counter, init=False)
    _memory: Service = field(default_factory=Service, init=False, repr=False)
    _faults: dict[str, list[str | BaseException]] = field(default_factory=dict, init=False)
    _crash_at: dict[str, int] = field(default_factory=dict, init=False)

    # --- persistence hook (FileBackend overrides) ---------------------------------

    @contextlib.contextmanager
    def _service(self) -> Iterator[Service]:
        yield self._memory

    def _count(self, service: Service, method: str) -> None:
        service.calls[method] = service.calls.get(method, 0) + 1

    # --- inspection -----------------------------------------------------------------

    @property
    def calls(self) -> Counter[str]:
        """Calls made, per method (`list` counts pages)."""
        with self._service() as s:
            return Counter(s.calls)

    @property
    def creates(self) -> int:
        """Jobs actually created (a duplicate submission shows up here)."""
        with self._service() as s:
            return s.creates

    def jobs(self) -> builtins.list[FakeJob]:
        """Every job, in creation order."""
        with self._service() as s:
            return sorted(s.jobs.values(), key=lambda j: j.seq)

    def job(self, remote_name: str) -> FakeJob:
        """One job by remote name."""
        with self._service() as s:
            return s.jobs[remote_name]

    def reset_calls(self) -> None:
        """Zero the call counters."""
        with self._service() as s:
            s.calls = {}

    # --- fault injection ------------------------------------------------------------

    def inject(self, point: str, *faults: str | BaseException) -> None:
        """Queue faults for the next calls at `point` (`submit`, `submit.created`,
        `list`, `get`, `cancel`, `outputs`)."""
        for fault in faults:
            if isinstance(fault, str) and fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}")
        self._faults.setdefault(point, []).extend(faults)

    def crash_at(self, point: str, hit: int) -> None:
        """Raise SimulatedCrash the `hit`-th time `point` is reached."""
        self._crash_at[point] = hit

    def _point(self, point: str) -> None:
        self._raise(self._hit(point))

    def _hit(self, point: str) -> str | BaseException | None:
        """Count a call point; crash there if asked; return the next queued fault."""
        self.hits[point] += 1
        if self._crash_at.get(point) == self.hits[point]:
            raise SimulatedCrash(f"{point} #{self.hits[point]}")
        queue = self._faults.get(point)
        return queue.pop(0) if queue else None

    @staticmethod
    def _raise(fault: str | BaseException | None) -> None:
        if fault is None:
            return
        if isinstance(fault, BaseException):
            raise fault
        if fault == "throttled":
            raise TemporaryBackendError("429 Too Many Requests (injected)")
        if fault == "unavailable":
            raise TemporaryBackendError("503 Service Unavailable (injected)")
        if fault in ("timeout", "timeout_created"):
            raise AmbiguousSubmitError(f"timed out waiting for the service ({fault}, injected)")
        if fault == "permanent":
            raise PermanentBackendError("400 Bad Request (injected)")
        if fault == "crash":
            raise SimulatedCrash("injected crash")

    # --- the Protocol -----------------------------------------------------------------

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Adopt the job with this fingerprint label, or create it."""
        key = job.labels.get(LABEL_FINGERPRINT, job.fingerprint[:63])

        def adopt_or_create(s: Service) -> FakeJob:
            found = [j for j in s.jobs.values() if j.labels.get(LABEL_FINGERPRINT) == key]
            result = found[0] if self.idempotent and found else self._create(s, job)
            if result.state == JobState.PAUSED.value:
                result.state = JobState.RUNNING.value  # like the local engine: resubmit resumes
            return result

        return self._creating("submit", adopt_or_create)

    def _creating(self, point: str, work: Callable[[Service], FakeJob]) -> RemoteJob:
        """`work` done at call point `point`, under its faults (`timeout_created`:
        the work is done and the answer lost on the way back)."""
        with self._service() as s:
            self._count(s, point)
        fault = self._hit(point)
        if fault != "timeout_created":
            self._raise(fault)
        with self._service() as s:
            remote = work(s).remote(self.name)
        self._raise(fault)
        self._point(point + ".created")
        return remote

    def _create(self, s: Service, job: CompiledJob) -> FakeJob:
        s.seq += 1
        s.creates += 1
        remote_name = f"{self.name}-jobs/{job.name}-{s.seq:06d}"
        body = json.dumps(job.body, sort_keys=True, default=str).encode()
        fake = FakeJob(
            remote_name=remote_name,
            job_name=job.name,
            labels={k: str(v) for k, v in job.labels.items()},
            seq=s.seq,
            total=self.total,
            created_at=self.now().isoformat(),
            body_sha=hashlib.sha256(body).hexdigest(),
        )
        s.jobs[remote_name] = fake
        return fake

    def get(self, remote_name: str) -> RemoteJob:
        """The job's current state."""
        with self._service() as s:
            self._count(s, "get")
        self._point("get")
        with self._service() as s:
            if self.auto_advance:
                self._advance(s)
            if remote_name not in s.jobs:
                raise JobNotFoundError(f"no job {remote_name}")
            return s.jobs[remote_name].remote(self.name)

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        """Matching jobs, one counted call per page."""
        wanted = dict(selector or {})
        page = 0
        while True:
            with self._service() as s:
                self._count(s, "list")
            self._point("list")
            with self._service() as s:
                if page == 0 and self.auto_advance:
                    self._advance(s)
                matching = [
                    j
                    for j in sorted(s.jobs.values(), key=lambda j: j.seq)
                    if all(j.labels.get(k) == v for k, v in wanted.items())
                ]
                chunk = matching[page * self.page_size : (page + 1) * self.page_size]
                items = [j.remote(self.name) for j in chunk]
                more = (page + 1) * self.page_size < len(matching)
            yield from items
            if not more:
                return
            page += 1

    def cancel(self, remote_name: str) -> RemoteJob:
        """Ask the job to stop."""
        with self._service() as s:
            self._count(s, "cancel")
        self._point("cancel")
        with self._service() as s:
            if remote_name not in s.jobs:
                raise JobNotFoundError(f"no job {remote_name}")
            job = s.jobs[remote_name]
            if not JobState(job.state).terminal and self.cancel_takes_effect:
                job.state = JobState.CANCELLING.value
            return job.remote(self.name)

    def outputs(self, remote_name: str) -> builtins.list[str]:
        """Result and error files of a finished job."""
        with self._service() as s:
            self._count(s, "outputs")
            if remote_name not in s.jobs:
                raise JobNotFoundError(f"no job {remote_name}")
            location = s.jobs[remote_name].output_location
        if not location:
            return []
        return sorted(str(p) for p in Path(location).glob("prediction.*"))

    # --- the service moving on its own ------------------------------------------------

    def advance(self, steps: int = 1) -> None:
        """Move every unfinished job `steps` steps along its life."""
        with self._service() as s:
            for _ in range(steps):
                self._advance(s)

    def _advance(self, s: Service) -> None:
        for job in s.jobs.values():
            state = JobState(job.state)
            if state.terminal:
                continue
            if state is JobState.CANCELLING:
                self._finish(job, JobState.CANCELLED)
                continue
            if state in (JobState.PAUSED, JobState.UPDATING):
                continue
            job.steps += 1
            phase = job.steps // self.steps_per_state
            if phase < len(LIFECYCLE):
                job.state = LIFECYCLE[phase].value
                if LIFECYCLE[phase] is JobState.RUNNING:
                    job.completed = min(job.total, job.completed + job.total // 2)
            else:
                self._finish(job, self.outcome(job))

    def _finish(self, job: FakeJob, state: JobState) -> None:
        job.state = state.value
        job.ended_at = self.now().isoformat()
        if state is JobState.SUCCEEDED:
            job.completed = job.total
            self._write_outputs(job)
        elif state is JobState.FAILED:
            job.error = "model server crashed (injected outcome)"

    def _write_outputs(self, job: FakeJob) -> None:
        if self.output_root is None:
            return
        folder = self.output_root / job.remote_name.replace("/", "_")
        folder.mkdir(parents=True, exist_ok=True)
        name = "prediction.results-00000-of-00001"
        lines = [
            json.dumps({"key": f"k{i}", "prediction": {"label": i % 2, "score": i / 10}})
            for i in range(3)
        ]
        data = ("\n".join(lines) + "\n").encode()
        (folder / name).write_bytes(data)
        manifest = {
            "files": [
                {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            ],
            "counts": {"completed": 3, "failed": 0},
        }
        (folder / "batchspec-manifest.json").write_text(json.dumps(manifest))
        job.output_location = str(folder)

    # --- changes made outside batchspec -------------------------------------------------

    def set_state(self, remote_name: str, state: JobState, *, error: str | None = None) -> None:
        """Force a job into `state` (the service or a person did it)."""
        with self._service() as s:
            job = s.jobs[remote_name]
            if state.terminal:
                job.error = error
                self._finish(job, state)
            else:
                job.state = state.value

    def cancel_outside(self, remote_name: str) -> None:
        """Someone cancelled the job in the console."""
        self.set_state(remote_name, JobState.CANCELLED)

    def delete_outside(self, remote_name: str) -> None:
        """Someone deleted the job."""
        with self._service() as s:
            del s.jobs[remote_name]

    def relabel_outside(self, remote_name: str, labels: Mapping[str, str]) -> None:
        """Someone changed the job's labels."""
        with self._service() as s:
            s.jobs[remote_name].labels.update(labels)

    def create_outside(self, job: CompiledJob) -> str:
        """Someone (another state file, a colleague) created a job with our labels."""
        with self._service() as s:
            return self._create(s, job).remote_name


class ListingBackend(FakeBackend):
    """The double as a service with no request id, as Vertex AI is.

    `submit` does what `VertexBackend.submit` does: list by the fingerprint
    label (one counted `list` call per page) and create only when nothing
    carries it. `create` (the `Creates` capability) creates at once, for a
    caller that listed the location itself; its faults are injected at the
    `create` point (`timeout_created`: the job exists, the answer is lost)."""

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Adopt the job carrying this fingerprint label (one list), or create it."""
        key = job.labels.get(LABEL_FINGERPRINT, job.fingerprint[:63])
        for found in self.list({LABEL_FINGERPRINT: key}):
            return found
        return self.create(job)

    def create(self, job: CompiledJob) -> RemoteJob:
        """Create the job, never looking for it first."""
        return self._creating("create", lambda s: self._create(s, job))
