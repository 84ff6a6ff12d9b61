"""A local backend that dies right after a submit reached it, before anyone
could record the job: `BATCHSPEC_BACKEND_LOCAL=tests.pulumi.crashing:after_submit`.

The process exits with os._exit, as a SIGKILL or a power cut would leave
it: no finally blocks, no lease release, the state holds only the intent.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Mapping

from batchspec.backends.local import LocalBackend
from batchspec.model.jobs import CompiledJob, RemoteJob

HOME_ENV = "BATCHSPEC_TEST_HOME"
CRASH_CODE = 86


class CrashAfterSubmit:
    """Delegates to a LocalBackend; `submit` creates the job, then the process dies."""

    name = "local"

    def __init__(self) -> None:
        self.inner = LocalBackend(os.environ[HOME_ENV])

    def submit(self, job: CompiledJob) -> RemoteJob:
        self.inner.submit(job)
        os._exit(CRASH_CODE)

    def get(self, remote_name: str) -> RemoteJob:
        return self.inner.get(remote_name)

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        return self.inner.list(selector)

    def cancel(self, remote_name: str) -> RemoteJob:
        return self.inner.cancel(remote_name)

    def outputs(self, remote_name: str) -> builtins.list[str]:
        return self.inner.outputs(remote_name)


def after_submit() -> CrashAfterSubmit:
    """The factory named in BATCHSPEC_BACKEND_LOCAL."""
    return CrashAfterSubmit()
