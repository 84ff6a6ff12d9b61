"""The backend Protocol, and the capabilities some backends add to it.

The controller, the CLI and the Pulumi provider talk to every backend (local
engine, Vertex AI, google-genai, ML Engine, Ray) through `Backend`. What only
some backends can do is a capability protocol of its own; callers ask with
`isinstance(backend, Capability)` (a check of the protocol, never of a
class), so a site's own backend (`BATCHSPEC_BACKEND_<TARGET>`) gains a
feature by growing the method, not by subclassing.

Contract, shared by every implementation:

* `submit` is idempotent by fingerprint: it first looks for a job carrying the
  compiled job's fingerprint label (or, on ML Engine, its deterministic job id)
  and adopts it; only when none exists does it create one. After an ambiguous
  failure it must look again before creating. It raises
  `TemporaryBackendError` for things worth retrying and
  `PermanentBackendError` for things that are not.
* `get` raises `JobNotFoundError` for unknown names.
* `list` filters by labels (all must match) and pages internally; the cost is
  one call per page, never one per job.
* States are mapped onto `JobState`; PAUSED and UPDATING are not terminal.

Capabilities:

* `Located`: jobs live in locations (a project and region); `list_at` lists
  one of them and `location_of` says which one a job or parent is in, so
  the controller can list every location its specs and records name.
* `Creates`: `create` skips the look-up `submit` makes first, for a caller
  that listed the job's location moments ago (apply, a controller pass):
  one list per location, then creates. After an ambiguous failure it still
  looks before creating again.
* `Finds`: the job of one revision, without creating it.
* `Reruns`: run a finished revision again from scratch.
* `Deletes`, `HasLogs`, `HasDetails`, `JobFolders`: what `batchspec run`,
  `logs` and the tests use where a backend offers it.

`wait_for` (poll until the job ends) and `find_job` work with any backend.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from batchspec.compile.fingerprint import fingerprint_label
from batchspec.errors import PermanentBackendError
from batchspec.model.enums import JobState, Target
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob, RemoteJob


@runtime_checkable
class Backend(Protocol):
    """What batchspec needs from a place that runs batch prediction jobs."""

    name: str

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Create the job unless one with its fingerprint exists; return it."""
        ...

    def get(self, remote_name: str) -> RemoteJob:
        """The job's current state."""
        ...

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        """Jobs whose labels include every item of `selector`."""
        ...

    def cancel(self, remote_name: str) -> RemoteJob:
        """Ask the job to stop; returns its state after the request."""
        ...

    def outputs(self, remote_name: str) -> builtins.list[str]:
        """URLs or paths of the job's result and error files."""
        ...


@runtime_checkable
class Located(Protocol):
    """A backend whose jobs live in locations it lists one at a time.

    A location is a key the backend understands (for the Google services the
    list parent, `projects/P/locations/R` or `projects/P`); every remote name
    in a location starts with the key and a `/`, so whether a listing covers
    a job can be told from its name alone."""

    def location_of(self, name: str) -> str | None:
        """The location a remote name or a compiled job's `parent` is in
        (None when the name does not say)."""
        ...

    def default_location(self) -> str | None:
        """The configured location `list()` uses, when there is one."""
        ...

    def list_at(
        self, location: str, selector: Mapping[str, str] | None = None
    ) -> Iterator[RemoteJob]:
        """`list(selector)` in one location: one call per page."""
        ...


@runtime_checkable
class Creates(Protocol):
    """A backend that can create without looking for the job first."""

    def create(self, job: CompiledJob) -> RemoteJob:
        """Create the job, trusting the caller's listing that it does not exist.

        Only for a caller that listed the job's location itself; an ambiguous
        failure (the job may exist) raises `AmbiguousSubmitError`, and any
        retry looks for the job before creating again."""
        ...


@runtime_checkable
class Finds(Protocol):
    """A backend that finds a revision's job by a route cheaper than listing."""

    def find(self, job: CompiledJob) -> RemoteJob | None:
        """The job of this revision (its latest attempt), None when never submitted."""
        ...


@runtime_checkable
class Reruns(Protocol):
    """A backend that can run a finished revision again (`batchspec run --rerun`)."""

    def rerun(self, job: CompiledJob) -> RemoteJob:
        """Submit `job`; a finished job of this revision is set aside and run afresh."""
        ...


@runtime_checkable
class Deletes(Protocol):
    """A backend that deletes finished jobs (outputs are never touched)."""

    def delete(self, remote_name: str) -> None:
        """Delete a finished job; a running one is refused."""
        ...


@runtime_checkable
class HasLogs(Protocol):
    """A backend that keeps a readable log per job."""

    def logs(self, remote_name: str) -> str:
        """The job's log as text, so far."""
        ...


@runtime_checkable
class HasDetails(Protocol):
    """A backend that reports the engine's own status record (error hints, shards)."""

    def details(self, remote_name: str) -> dict[str, Any]:
        """The raw status record; empty when there is none yet."""
        ...


@runtime_checkable
class JobFolders(Protocol):
    """A backend whose jobs keep a folder on this machine."""

    def job_dir(self, remote_name: str) -> Path:
        """The job's folder (status, plan, logs)."""
        ...


def check_target(job: CompiledJob, target: Target, backend: str) -> None:
    """PermanentBackendError (like a service's 400) for a job compiled for
    another target: its request body is not this backend's."""
    if job.target is not target:
        raise PermanentBackendError(
            f"{job.name} is compiled for {job.target.value}, not {target.value}:"
            f" the {backend} backend runs jobs compiled for target {target.value}",
            hint=f"compile it with target={target.value}",
        )


def find_job(backend: Backend, job: CompiledJob) -> RemoteJob | None:
    """The job of `job`'s revision on any backend: its own `find`, else one
    list by the fingerprint label (in the job's location when it has one)."""
    if isinstance(backend, Finds):
        return backend.find(job)
    fp = job.labels.get(LABEL_FINGERPRINT) or fingerprint_label(job.fingerprint)
    selector = {LABEL_FINGERPRINT: fp}
    listing: Iterator[RemoteJob] | None = None
    if isinstance(backend, Located) and job.parent:
        location = backend.location_of(job.parent)
        listing = backend.list_at(location, selector) if location else None
    if listing is None:
        listing = backend.list(selector)
    return choose_adopted(listing)


def choose_adopted(jobs: Iterable[RemoteJob]) -> RemoteJob | None:
    """Of the jobs carrying one fingerprint, the one to adopt: a live one first
    (it is the one doing the work), else the newest."""
    candidates = list(jobs)
    live = [j for j in candidates if not j.terminal]
    return max(live or candidates, key=_created, default=None)


def _created(job: RemoteJob) -> tuple[float, str]:
    return (job.create_time.timestamp() if job.create_time else 0.0, job.remote_name)


def wait_for(
    backend: Backend,
    remote_name: str,
    *,
    timeout: float | None = None,
    poll: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> RemoteJob:
    """Poll `get` until the job is terminal or PAUSED (a paused job waits for
    someone to resume it), or `timeout` seconds pass."""
    deadline = None if timeout is None else monotonic() + timeout
    while True:
        job = backend.get(remote_name)
        if job.terminal or job.state is JobState.PAUSED:
            return job
        if deadline is not None and monotonic() >= deadline:
            return job
        sleep(poll)


__all__ = [
    "Backend",
    "Creates",
    "Deletes",
    "Finds",
    "HasDetails",
    "HasLogs",
    "JobFolders",
    "Located",
    "Reruns",
    "check_target",
    "choose_adopted",
    "find_job",
    "wait_for",
]
