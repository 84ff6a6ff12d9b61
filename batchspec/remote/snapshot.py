"""A long-running reader's view of remote state: the live generation, downloaded
again when another one goes live.

A command that reads once (`status`, `plan`) downloads one snapshot
(`RemoteSession`). `batchspec ui` reads for hours while CI applies: it must
follow the bucket, without taking the lock and without downloading the state
on every page view. So it asks for the live generation's metadata at most
every `refresh` seconds (one small GET) and downloads the state only when the
generation changed. When the bucket cannot be reached, the last snapshot is
served (the view is read-only and says which state it shows) and the error
is logged once per outage; with no snapshot yet, the error is raised.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from batchspec.errors import RemoteStateError
from batchspec.remote.protocol import RemoteBackend, StateObject
from batchspec.state.store import StateStore

DEFAULT_REFRESH = 5.0


class LiveSnapshot:
    """The live generation of one remote state, as an open read-only store."""

    def __init__(
        self,
        url: str,
        *,
        refresh: float = DEFAULT_REFRESH,
        backend: RemoteBackend | None = None,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = lambda _m: None,
    ) -> None:
        from batchspec.remote.session import connect

        self.location, self.backend = connect(url, backend)
        self.refresh = refresh
        self.clock = clock
        self.log = log
        self.generation: int | None = None  # of the open snapshot (0: no state yet)
        self._store: StateStore | None = None
        self._checked = -math.inf
        self._failing = False
        self._dir = Path(tempfile.mkdtemp(prefix="batchspec-snapshot-"))

    def store(self) -> StateStore:
        """The snapshot of the live generation (checked at most every `refresh` s)."""
        now = self.clock()
        if self._store is not None and now - self._checked < self.refresh:
            return self._store
        self._checked = now
        try:
            live = self.backend.stat_state()
        except RemoteStateError as exc:
            if self._store is None:
                raise
            if not self._failing:
                self.log(f"warning: showing the state as of generation {self.generation}: {exc}")
            self._failing = True
            return self._store
        self._failing = False
        generation = live.generation if live is not None else 0
        if self._store is not None and generation == self.generation:
            return self._store
        fresh = self._open(live)
        self._close_store()
        self._store, self.generation = fresh, generation
        return fresh

    def _open(self, live: StateObject | None) -> StateStore:
        if live is None:
            return StateStore.memory()  # nothing applied yet: an empty state
        path = self._dir / f"state-{live.generation}.db"
        self.backend.download_state(live.generation, path)
        return StateStore.open(path, create=False)

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is None:
            return
        path = store.path
        store.close()
        if path is not None:
            Path(path).unlink(missing_ok=True)

    def close(self) -> None:
        """Close the snapshot and remove its files (idempotent)."""
        self._close_store()
        shutil.rmtree(self._dir, ignore_errors=True)
