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
threaded process can copy a held lock): `_Forked`, a few pipes rather than
a ProcessPoolExecutor, whose import alone cost more than the pool saved
in pickling. Otherwise a ProcessPoolExecutor spawns them.
"""

from __future__ import annotations

import gc
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn, Protocol

from batchspec.validate.validator import FileReport, check_file

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
    # The first file here, before the workers fork: they inherit what it
    # compiled (views, patterns, rule tables) instead of each compiling it.
    yield check_file(files[0], keep_specs=False)
    chunks = _chunks(files, chunk_size(len(files) - 1, count), first=1)
    # Objects alive now (modules, compiled schemas and views) go to the
    # collector's permanent generation while workers fork, so a worker's
    # full collection does not touch, and so copy, every inherited page.
    gc.freeze()
    try:
        # this process checks too: `count` processes in all, one fewer to
        # start, and what it checks is never pickled
        if _can_fork():
            pool = _Forked(files, count - 1)
            try:
                yield from _share(pool.submit, chunks, workers=count - 1)
            finally:
                pool.close()
        else:
            yield from _spawned(chunks, count - 1)
    finally:
        gc.unfreeze()


def _spawned(chunks: Iterator[tuple[int, list[str]]], workers: int) -> Iterator[FileReport]:
    """`_share` with a pool of spawned workers (no fork here, or threads run)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor  # slow to import: 90 M instructions

    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        yield from _share(
            lambda _, chunk: pool.submit(_check_chunk, chunk), chunks, workers=workers
        )


def _share(
    submit: Submit, chunks: Iterator[tuple[int, list[str]]], *, workers: int
) -> Iterator[FileReport]:
    """The reports of `chunks`, in order, each checked by the pool or here.

    The pool is kept two chunks per worker ahead (a worker never waits for
    this process to hand it the next); the chunks it is not given are checked
    here, so this process checks about as much as a worker, less what
    unwiring and taking its reports costs. At most two chunks per process
    are held at once (in the pool, or checked here and waiting their turn),
    however large the tree.
    """
    busy, ahead = 2 * workers, 2 * (workers + 1)
    held: deque[tuple[list[str], Answer | list[FileReport]]] = deque()
    for first, chunk in chunks:
        while held and (len(held) >= ahead or _ready(held[0][1])):
            yield from _take(*held.popleft())
        if sum(not _ready(answer) for _, answer in held) < busy:
            held.append((chunk, submit(first, chunk)))
        else:
            held.append((chunk, [check_file(file, keep_specs=False) for file in chunk]))
    while held:
        yield from _take(*held.popleft())


def _ready(answer: Answer | list[FileReport]) -> bool:
    return isinstance(answer, list) or answer.done()


def _take(files: list[str], answer: Answer | list[FileReport]) -> Iterator[FileReport]:
    return iter(answer) if isinstance(answer, list) else _unwire(files, answer)


def chunk_size(files: int, workers: int) -> int:
    """Files per chunk: about eight chunks per worker, so the last chunks
    balance the workers' loads, within `CHUNK` and `MAX_CHUNK` (each chunk
    is a round trip between two processes)."""
    return max(CHUNK, min(MAX_CHUNK, files // (8 * workers)))


# A worker's answer for one file: the report, or a clean spec's job name.
Wired = FileReport | str


class Answer(Protocol):
    """A chunk's wired reports, once a worker has sent them (a Future)."""

    def done(self) -> bool: ...

    def result(self) -> list[Wired]: ...


# Hands a chunk (where it starts in the files, its files) to a worker.
Submit = Callable[[int, list[str]], Answer]


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


def _unwire(files: list[str], answer: Answer) -> Iterator[FileReport]:
    """The reports of a chunk's `files`, whole again, in file order."""
    for file, item in zip(files, answer.result(), strict=True):
        if isinstance(item, str):  # a clean spec's name
            yield FileReport(file, True, [], [(item, 0)], keep=False)
        else:
            yield item


def _chunks(files: Sequence[str], size: int, *, first: int) -> Iterator[tuple[int, list[str]]]:
    """Each chunk of `files` from `first` on, with where it starts."""
    for start in range(first, len(files), size):
        yield start, list(files[start : start + size])


def _can_fork() -> bool:
    """Whether workers may be forked: the platform has fork, and no other
    thread runs here (a forked child can inherit a lock another thread held)."""
    threading = sys.modules.get("threading")  # not imported: no thread started
    alone = threading is None or threading.active_count() == 1
    return alone and hasattr(os, "fork") and sys.platform != "win32"


class _Forked:
    """Workers forked from this process, each sent the bounds of its chunks
    down a pipe and answering, in order, with their wired reports pickled.

    Not a ProcessPoolExecutor: importing it (multiprocessing, logging,
    subprocess, its threads and queues) cost 90 M instructions, 6 % of
    validating 2,000 specs. A forked worker already holds `files`, so a
    request is two numbers; an answer waits in its pipe until this process
    takes it (a pipe holds 64 KiB; 400 files answer in about 20 KiB).
    """

    def __init__(self, files: Sequence[str], workers: int) -> None:
        import pickle
        import select

        self._loads, self._select = pickle.loads, select.select
        self.workers: list[_Worker] = []
        try:
            for _ in range(workers):
                self.workers.append(_Worker(files, self.workers))
        except BaseException:
            self.close()
            raise

    def submit(self, first: int, chunk: list[str]) -> _Reply:
        """Send the chunk to the worker with the fewest answers to give."""
        worker = min(self.workers, key=lambda w: len(w.waiting))
        os.write(worker.ask, first.to_bytes(8, "little") + len(chunk).to_bytes(8, "little"))
        reply = _Reply(self, worker)
        worker.waiting.append(reply)
        return reply

    def take_ready(self) -> None:
        """Take every answer a worker has begun to send."""
        for worker in self.workers:
            while worker.waiting and self._select([worker.answers], [], [], 0)[0]:
                self.take(worker)

    def take(self, worker: _Worker) -> None:
        """Wait for the worker's next answer and give it to its reply."""
        reply = worker.waiting.popleft()
        head = _read(worker.answers, 8)
        body = _read(worker.answers, int.from_bytes(head, "little")) if len(head) == 8 else b""
        if not body:
            raise RuntimeError(f"validate worker {worker.pid} ended before its answer")
        reply.value = self._loads(body)
        reply.taken = True

    def close(self) -> None:
        """Close the pipes (a worker reads the end of its requests and
        exits) and wait for every worker."""
        for worker in self.workers:
            os.close(worker.ask)
            os.close(worker.answers)
        for worker in self.workers:
            os.waitpid(worker.pid, 0)
        self.workers = []


class _Worker:
    """One forked worker: its pid, pipe ends, and replies not yet taken."""

    def __init__(self, files: Sequence[str], others: list[_Worker]) -> None:
        requests, self.ask = os.pipe()
        self.answers, answers = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.ask)
            os.close(self.answers)
            for other in others:  # or an earlier worker would wait on this one's copy
                os.close(other.ask)
                os.close(other.answers)
            _serve(files, requests, answers)
        os.close(requests)
        os.close(answers)
        self.waiting: deque[_Reply] = deque()


class _Reply:
    """What `_Forked.submit` returns: an `Answer` taken from the pipe."""

    __slots__ = ("pool", "taken", "value", "worker")

    def __init__(self, pool: _Forked, worker: _Worker) -> None:
        self.pool, self.worker = pool, worker
        self.taken = False
        self.value: list[Wired] | BaseException = []

    def done(self) -> bool:
        if not self.taken:
            self.pool.take_ready()
        return self.taken

    def result(self) -> list[Wired]:
        while not self.taken:  # earlier answers of the same worker come first
            self.pool.take(self.worker)
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value


def _serve(files: Sequence[str], requests: int, answers: int) -> NoReturn:
    """A worker's life: check each chunk asked for, answer, exit at the end
    of the requests, never return into the caller's code."""
    import pickle

    status = 1
    try:
        while len(ask := _read(requests, 16)) == 16:
            first, count = int.from_bytes(ask[:8], "little"), int.from_bytes(ask[8:], "little")
            value: list[Wired] | Exception
            try:
                value = _check_chunk(list(files[first : first + count]))
            except Exception as error:  # raised again in the caller
                value = error
            body = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            _write(answers, len(body).to_bytes(8, "little") + body)
        status = 0
    finally:
        os._exit(status)


def _read(fd: int, size: int) -> bytes:
    """`size` bytes, or fewer when the pipe's writer has closed it."""
    parts, left = [], size
    while left and (part := os.read(fd, left)):
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
