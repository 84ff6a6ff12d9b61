"""Check large spec trees in worker processes, in file order.

Below `MIN_FILES` files (a repository's `specs/`, one spec), everything runs
in the calling process: starting workers costs more than it saves. Above it,
files go to a pool in chunks of `CHUNK` (few round trips), at most two
chunks per worker in flight, results taken in submission order, so output is
the same as a run in one process. Workers are forked where the platform
allows it (Linux: they inherit the imported modules and compiled schemas
instead of loading them again) and when no other thread runs in the caller
(forking a threaded process can copy a held lock).
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from batchspec.validate.validator import FileReport, check_file

if TYPE_CHECKING:
    from concurrent.futures import Future

MIN_FILES = 200
CHUNK = 50


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_files(files: Sequence[str], *, workers: int | None = None) -> Iterator[FileReport]:
    """Reports for `files`, in order, keeping only diagnostics and names."""
    count = workers or min(usable_cores(), -(-len(files) // CHUNK))
    if count < 2 or len(files) < 2 or (workers is None and len(files) < MIN_FILES):
        for file in files:
            yield check_file(file, keep_specs=False)
        return
    from concurrent.futures import ProcessPoolExecutor  # only for large trees: slow to import

    # The first file here, before the workers fork: they inherit what it
    # compiled (views, patterns, rule tables) instead of each compiling it.
    yield check_file(files[0], keep_specs=False)
    files = files[1:]
    # Objects alive now (modules, compiled schemas and views) go to the
    # collector's permanent generation while workers fork, so a worker's
    # full collection does not touch, and so copy, every inherited page.
    gc.freeze()
    try:
        with ProcessPoolExecutor(count, mp_context=_context()) as pool:
            # at most two chunks per worker in flight: memory stays flat however
            # large the tree (Executor.map would submit every chunk at once)
            pending: deque[Future[list[FileReport]]] = deque()
            for chunk in _chunks(files):
                pending.append(pool.submit(_check_chunk, chunk))
                if len(pending) >= 2 * count:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
    finally:
        gc.unfreeze()


def _check_chunk(files: list[str]) -> list[FileReport]:
    # names, not Paths, cross the pipe: a pickled PurePath costs ten times its string
    return [check_file(file, keep_specs=False) for file in files]


def _chunks(files: Sequence[str]) -> Iterator[list[str]]:
    it = iter(files)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _context() -> Any:
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
