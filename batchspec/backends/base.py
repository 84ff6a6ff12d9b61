"""The one backend Protocol. The controller, the CLI and the Pulumi provider
all talk to every backend (local engine, Vertex AI, google-genai, ML Engine,
Ray) through exactly these calls.

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
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from typing import Protocol, runtime_checkable

from batchspec.model.jobs import CompiledJob, RemoteJob


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
