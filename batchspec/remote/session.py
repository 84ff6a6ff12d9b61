"""One command's use of remote state: what `--state gs://...` means to a command.

* A command that only reads (`plan`, `status`, `get`, `results`, `history`)
  downloads the live generation into a private temporary file and reads
  that: no lock, nothing written, never the working copy a writer on this
  machine may be using.
* A command that writes (`apply`, `reconcile`, `drift`, `cancel`, `run`)
  takes the lock (waiting `--lock-timeout`), syncs the working copy, opens
  it as an ordinary state store, and pushes it back: every
  `BATCHSPEC_STATE_PUSH_INTERVAL` seconds (20 by default, as Terraform
  persists state during a long apply) when the command's guard is called
  between actions, after each controller pass, and on the way out, before
  the lock is released.

`session_of(store)` finds the session of an open store, so the lease code
of the CLI can push between passes without knowing where state lives.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from batchspec.errors import BatchspecError
from batchspec.remote.gcs import GcsBackend
from batchspec.remote.location import RemoteLocation
from batchspec.remote.lock import DEFAULT_TTL, RemoteLock
from batchspec.remote.protocol import RemoteBackend
from batchspec.remote.workcopy import WorkingCopy
from batchspec.state.lease import this_process
from batchspec.state.store import StateStore

PUSH_INTERVAL_ENV = "BATCHSPEC_STATE_PUSH_INTERVAL"
DEFAULT_PUSH_INTERVAL = 20.0

_SESSIONS: weakref.WeakKeyDictionary[StateStore, RemoteSession] = weakref.WeakKeyDictionary()


def backend_for(location: RemoteLocation) -> RemoteBackend:
    """The backend of a remote location (Cloud Storage is the one there is)."""
    return GcsBackend(location)


def connect(url: str, backend: RemoteBackend | None = None) -> tuple[RemoteLocation, RemoteBackend]:
    """The location `url` names and the backend that reaches it: `backend` where
    one is given (the tests' Cloud Storage double), else the location's own."""
    location = RemoteLocation.parse(url)
    return location, backend or backend_for(location)


def session_of(store: StateStore) -> RemoteSession | None:
    """The remote session an open store belongs to, if any."""
    return _SESSIONS.get(store)


class RemoteSession:
    """A context manager giving a command its StateStore for a remote location."""

    def __init__(
        self,
        url: str,
        *,
        create: bool,
        purpose: str | None,
        wait: float = 0.0,
        ttl: float = DEFAULT_TTL,
        log: Callable[[str], None] = lambda _m: None,
        backend: RemoteBackend | None = None,
    ) -> None:
        self.location, self.backend = connect(url, backend)
        self.create = create
        self.purpose = purpose
        self.wait = wait
        self.log = log
        holder = this_process()
        self.lock = RemoteLock(self.backend, purpose=purpose or "read", holder=holder, ttl=ttl)
        self.copy = WorkingCopy(
            self.backend, self.location.working_copy(), writer=holder.owner, log=log
        )
        self.store: StateStore | None = None
        self._temp: Path | None = None
        self._pushed_at = time.monotonic()
        self._interval = _push_interval()

    # --- entering ----------------------------------------------------------------------

    def __enter__(self) -> StateStore:
        store = self._open_writer() if self.purpose else self._open_reader()
        self.store = store
        _SESSIONS[store] = self
        return store

    def _open_reader(self) -> StateStore:
        remote = self.backend.stat_state()
        if remote is None:
            return StateStore.memory()
        self._temp = Path(tempfile.mkdtemp(prefix="batchspec-state-"))
        path = self._temp / "state.db"
        self.backend.download_state(remote.generation, path)
        return StateStore.open(path, create=False)

    def _open_writer(self) -> StateStore:
        self.lock.acquire(wait=self.wait)
        try:
            self.copy.sync()
            path = self.copy.path
            if not path.exists() and not self.create:
                return StateStore.memory()
            return StateStore.open(path, create=True)
        except BaseException:
            self.lock.release()
            raise

    # --- while the command runs -------------------------------------------------------

    def guard(self) -> None:
        """Before each action: stop if the lock was lost; push if a push is due."""
        self.lock.check()
        self.checkpoint()

    def checkpoint(self, *, force: bool = False) -> None:
        """Push the working copy if it changed and the interval passed (or `force`)."""
        if self.store is None or not self.purpose or self.store.path is None:
            return
        if not force and time.monotonic() - self._pushed_at < self._interval:
            return
        self.lock.check()
        self.copy.push(self.store.connection)
        self._pushed_at = time.monotonic()

    # --- leaving -----------------------------------------------------------------------

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store, self.store = self.store, None
        try:
            if store is not None and self.purpose and store.path is not None:
                self._final_push(store, failing=exc is not None)
        finally:
            if store is not None:
                _SESSIONS.pop(store, None)
                store.close()
            if self.purpose:
                self.lock.release()
            if self._temp is not None:
                shutil.rmtree(self._temp, ignore_errors=True)

    def _final_push(self, store: StateStore, *, failing: bool) -> None:
        """Push what the command wrote; when the command itself failed, a failed
        push is reported as a warning so that the command's own error is shown."""
        try:
            self.lock.check()
            self.copy.push(store.connection)
        except BatchspecError as exc:
            if not failing:
                raise
            self.log(f"warning: state not pushed to {self.location}: {exc.message}")


def _push_interval() -> float:
    text = os.environ.get(PUSH_INTERVAL_ENV, "").strip()
    try:
        return max(0.0, float(text)) if text else DEFAULT_PUSH_INTERVAL
    except ValueError:
        return DEFAULT_PUSH_INTERVAL
