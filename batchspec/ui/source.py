"""Where the pages read from: the state store (one owner thread), and specs.

SQLite connections belong to the thread that opened them, and one process
should hold one connection to a state file (closing a second descriptor of
the file drops the process's locks). A web server answers on many threads,
so every read goes through `StateReader`, which opens the store through its
public API on a single worker thread and runs each query there.

Two seams live here on purpose, each the only place its call is made:
`open_store` (a local SQLite file; remote state, `gs://`, is read through
`RemoteStateReader`, which follows the bucket's live generation) and
`load_specs` (today `plan.load_desired`; the compile front door replaces it).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from batchspec.plan.desired import Desired
    from batchspec.state.store import StateStore

T = TypeVar("T")


def state_location(state: str | os.PathLike[str] | None) -> Path:
    """The state file `--state` / $BATCHSPEC_STATE / the default names."""
    from batchspec.state.paths import resolve_state_path

    return resolve_state_path(state)


def open_store(location: Path) -> StateStore:
    """The recorded state at `location`, opened for reading.

    A missing file is an empty store (nothing is created), like `batchspec
    status`. Remote state (a `gs://` location) will be opened here."""
    from batchspec.state.store import StateStore

    return StateStore.open(location, create=False, readonly=True)


def load_specs(paths: Sequence[str]) -> Desired:
    """Validate and compile the specs under `paths`, keeping every diagnostic."""
    from batchspec.plan.desired import load_desired

    return load_desired(list(paths))


class StateReader:
    """Runs read queries against the state store on its one owner thread.

    The store is opened on first use; while the file does not exist yet (no
    `apply` has run) the reader looks again on each call, so a page opened
    before the first apply shows the jobs once they are recorded."""

    def __init__(
        self, location: Path, *, opener: Callable[[Path], StateStore] = open_store
    ) -> None:
        self.location = location
        self.label = str(location)  # what the page header names
        self._opener = opener
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batchspec-state")
        self._store: StateStore | None = None
        self._closed = threading.Event()

    def _current(self) -> StateStore:
        store = self._store
        if store is not None and store.path is None and self.location.exists():
            store.close()  # the empty stand-in: the file has appeared since
            store = None
        if store is None:
            store = self._opener(self.location)
            self._store = store
        return store

    def call(self, query: Callable[[StateStore], T]) -> T:
        """Run `query(store)` on the owner thread and return its result."""
        return self._pool.submit(lambda: query(self._current())).result()

    async def run(self, query: Callable[[StateStore], T]) -> T:
        """`call` for async handlers: the event loop is never blocked on SQLite."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: query(self._current()))

    def close(self) -> None:
        """Close the store on its own thread and stop the thread (idempotent)."""
        if self._closed.is_set():
            return
        self._closed.set()

        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._pool.submit(shut).result()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> StateReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteStateReader(StateReader):
    """A reader of remote state (`gs://BUCKET/PREFIX`): the live generation,
    downloaded again when CI or a teammate writes a new one (checked at most
    every `refresh` seconds; `batchspec.remote.snapshot`). Never locks."""

    def __init__(
        self, url: str, *, refresh: float = 5.0, log: Callable[[str], None] | None = None
    ) -> None:
        from batchspec.remote.snapshot import LiveSnapshot

        self.snapshot = LiveSnapshot(url, refresh=refresh, log=log or (lambda _m: None))
        super().__init__(Path(url))  # not a file: `_current` reads the snapshot
        self.label = str(self.snapshot.location)

    def _current(self) -> StateStore:
        return self.snapshot.store()

    def close(self) -> None:
        """Close the snapshot on the owner thread, then stop it (idempotent)."""
        if not self._closed.is_set():
            self._pool.submit(self.snapshot.close).result()
        super().close()
