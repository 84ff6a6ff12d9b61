"""The backend double with its service state in a JSON file, shared by processes.

Tests that kill `batchspec apply` with SIGKILL, or run two at once, point
the CLI at it with `BATCHSPEC_BACKEND_LOCAL=batchspec.testing.files:file_backend_from_env`
and configure it through `FAKE_BACKEND_*` variables.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.testing.backend import FakeBackend, ListingBackend
from batchspec.testing.service import Service


class FileBackend(FakeBackend):
    """The same double, its service state in a JSON file shared between processes.

    `kill_at="submit.created:5"` sends SIGKILL to this process the 5th time
    the point is reached in it (after the service state is saved, like a real
    service that created the job before the client died).
    """

    def __init__(
        self, path: Path, *, kill_at: str | None = None, delay: float = 0.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.path = Path(path)
        self.delay = delay
        self._kill: tuple[str, int] | None = None
        if kill_at:
            point, _, nth = kill_at.rpartition(":")
            self._kill = (point, int(nth))
        self._depth = 0
        self._current: Service | None = None

    @contextlib.contextmanager
    def _service(self) -> Iterator[Service]:
        if self._depth:
            assert self._current is not None
            self._depth += 1
            try:
                yield self._current
            finally:
                self._depth -= 1
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                text = self.path.read_text() if self.path.exists() else ""
                service = Service.from_json(json.loads(text)) if text else Service()
                self._current = service
                self._depth = 1
                try:
                    yield service
                finally:
                    self._depth = 0
                    self._current = None
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(service.to_json()))
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _hit(self, point: str) -> str | BaseException | None:
        if self._kill is not None:
            self.hits[point + "#kill"] += 1
            if self._kill == (point, self.hits[point + "#kill"]):
                os.kill(os.getpid(), signal.SIGKILL)
        return super()._hit(point)

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Submit, optionally slowly (to make two processes overlap)."""
        if self.delay:
            time.sleep(self.delay)
        return super().submit(job)


class ListingFileBackend(FileBackend, ListingBackend):
    """The file-backed double as a service without request ids (`create`)."""

    def create(self, job: CompiledJob) -> RemoteJob:
        """Create, optionally slowly."""
        if self.delay:
            time.sleep(self.delay)
        return super().create(job)


def file_backend_from_env() -> FileBackend:
    """Factory for `BATCHSPEC_BACKEND_LOCAL=batchspec.testing.files:file_backend_from_env`
    (`FAKE_BACKEND_LISTING=1`: a service without request ids, in Vertex AI's manner)."""
    env = os.environ
    kind = ListingFileBackend if env.get("FAKE_BACKEND_LISTING") == "1" else FileBackend
    return kind(
        Path(env["FAKE_BACKEND_FILE"]),
        kill_at=env.get("FAKE_BACKEND_KILL_AT") or None,
        delay=float(env.get("FAKE_BACKEND_DELAY", "0")),
        name=env.get("FAKE_BACKEND_NAME", "local"),
        page_size=int(env.get("FAKE_BACKEND_PAGE_SIZE", "20")),
        idempotent=env.get("FAKE_BACKEND_IDEMPOTENT", "1") == "1",
        auto_advance=env.get("FAKE_BACKEND_AUTO_ADVANCE", "1") == "1",
        steps_per_state=int(env.get("FAKE_BACKEND_STEPS", "1")),
        output_root=Path(env["FAKE_BACKEND_OUTPUTS"]) if env.get("FAKE_BACKEND_OUTPUTS") else None,
    )
