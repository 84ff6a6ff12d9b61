"""Check large spec trees in worker processes, in file order.

Below `MIN_FILES` files (a repository's `specs/`, one spec), everything runs
in the calling process: starting workers costs more than it saves. Above it,
files go to a pool in chunks (`chunk_size`: few round trips), at most two
chunks per worker in flight, results taken in submission order, so output is
the same as a run in one process. A clean spec comes back as its job name
alone (`_wire`): most files of a large tree are clean, and unpickling whole
reports was most of what the calling process did for them. Workers are
forked where the platform allows it (Linux: they inherit the imported
modules and compiled schemas instead of loading them again) and when no
other thread runs in the caller (forking a threaded process can copy a held
lock).
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
CHUNK = 50  # the fewest files a chunk holds
MAX_CHUNK = 400  # the most: memory holds 2 * workers chunks of reports


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
            pending: deque[tuple[list[str], Future[list[Wired]]]] = deque()
            for chunk in _chunks(files, chunk_size(len(files), count)):
                pending.append((chunk, pool.submit(_check_chunk, chunk)))
                if len(pending) >= 2 * count:
                    yield from _unwire(*pending.popleft())
            while pending:
                yield from _unwire(*pending.popleft())
    finally:
        gc.unfreeze()


def chunk_size(files: int, workers: int) -> int:
    """Files per chunk: about eight chunks per worker, so the last chunks
    balance the workers' loads, within `CHUNK` and `MAX_CHUNK` (each chunk
    is a round trip through both processes' queues and threads)."""
    return max(CHUNK, min(MAX_CHUNK, files // (8 * workers)))


# A worker's answer for one file: the report, or a clean spec's job name.
Wired = FileReport | str


def _check_chunk(files: list[str]) -> list[Wired]:
    # names, not Paths, cross the pipe: a pickled PurePath costs ten times its string
    return [_wire(check_file(file, keep_specs=False)) for file in files]


def _wire(report: FileReport) -> Wired:
    """A file that holds one valid spec and nothing else to say as that
    spec's job name; any other report whole."""
    names = report.names
    clean = report.read and not (report.diagnostics or report.declared or report.uses)
    if clean and len(names) == 1 and names[0][1] == 0:
        return names[0][0]
    return report


def _unwire(files: list[str], answer: Future[list[Wired]]) -> Iterator[FileReport]:
    """The reports of a chunk's `files`, whole again, in file order."""
    for file, item in zip(files, answer.result(), strict=True):
        if isinstance(item, str):  # a clean spec's name
            yield FileReport(file, True, [], [(item, 0)], keep=False)
        else:
            yield item


def _chunks(files: Sequence[str], size: int) -> Iterator[list[str]]:
    it = iter(files)
    while chunk := list(islice(it, size)):
        yield chunk


def _context() -> Any:
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
