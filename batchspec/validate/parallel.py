"""Check large spec trees in worker processes, in file order.

Below `MIN_FILES` files (a repository's `specs/`, one spec), everything runs
in the calling process: starting workers costs more than it saves. Above it,
files go in chunks (`chunk_size`: few round trips) to a pool of one worker
fewer than the usable cores, at most two chunks per worker in flight; the
calling process checks the chunks the pool is not given (`_share`: a worker
fewer to start, and its reports never pickled). Reports are taken in file
order, so output is the same as a run in one process. A clean spec comes
back from a worker as its job name alone (`_wire`): most files of a large
tree are clean, and unpickling whole reports was most of what the calling
process did for them. Workers are forked where the platform allows it
(Linux: they inherit the imported modules and compiled schemas instead of
loading them again) and when no other thread runs in the caller (forking a
threaded process can copy a held lock).
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from batchspec.validate.validator import FileReport, check_file

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

MIN_FILES = 200
CHUNK = 50  # the fewest files a chunk holds
MAX_CHUNK = 400  # the most: memory holds 2 * processes chunks of reports


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
    # Objects alive now (modules, compiled schemas and views) go to the
    # collector's permanent generation while workers fork, so a worker's
    # full collection does not touch, and so copy, every inherited page.
    gc.freeze()
    try:
        # this process checks too: `count` processes in all, one fewer to
        # start, and what it checks is never pickled
        with ProcessPoolExecutor(count - 1, mp_context=_context()) as pool:
            rest = islice(files, 1, None)
            size = chunk_size(len(files) - 1, count)
            yield from _share(pool, _chunks(rest, size), workers=count - 1)
    finally:
        gc.unfreeze()


def _share(pool: Executor, chunks: Iterator[list[str]], *, workers: int) -> Iterator[FileReport]:
    """The reports of `chunks`, in order, each checked by the pool or here.

    The pool is kept two chunks per worker ahead (a worker never waits for
    this process to hand it the next); the chunks it is not given are checked
    here, so this process checks about as much as a worker, less what
    unwiring and taking its reports costs. At most two chunks per process
    are held at once (in the pool, or checked here and waiting their turn),
    however large the tree.
    """
    busy, ahead = 2 * workers, 2 * (workers + 1)
    held: deque[tuple[list[str], Future[list[Wired]] | list[FileReport]]] = deque()
    for chunk in chunks:
        while held and (len(held) >= ahead or _ready(held[0][1])):
            yield from _take(*held.popleft())
        if sum(not _ready(answer) for _, answer in held) < busy:
            held.append((chunk, pool.submit(_check_chunk, chunk)))
        else:
            held.append((chunk, [check_file(file, keep_specs=False) for file in chunk]))
    while held:
        yield from _take(*held.popleft())


def _ready(answer: Future[list[Wired]] | list[FileReport]) -> bool:
    return isinstance(answer, list) or answer.done()


def _take(files: list[str], answer: Future[list[Wired]] | list[FileReport]) -> Iterator[FileReport]:
    return iter(answer) if isinstance(answer, list) else _unwire(files, answer)


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


def _chunks(files: Iterable[str], size: int) -> Iterator[list[str]]:
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
