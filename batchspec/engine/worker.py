"""A worker process: loads the model once, then processes shards until told
to stop. It talks to the supervisor only through two pipes of its own (tasks
in, messages out): nothing shared with other workers, so a worker killed
in the middle of a message (SIGKILL, the OOM killer) cannot leave a lock
held that stops the others, as a shared multiprocessing.Queue's can."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchspec.engine.jobdir import JobDir
from batchspec.engine.messages import Fatal, Progress, Published, Ready
from batchspec.engine.plan import Shard
from batchspec.engine.runners.base import RunnerContext
from batchspec.engine.runners.loader import load_runner
from batchspec.engine.shard import ShardJob, process_shard
from batchspec.errors import BatchspecError
from batchspec.model.spec import LocalModel

# When a worker reports progress: the supervisor writes the status record (what
# users see) at most every 0.5 s (jobrun.PROGRESS_EVERY), so messages sent more
# often only woke it to add numbers nobody reads before the next write. A
# message also waits for PROGRESS_BATCHES batches, so that how many a job
# sends per instance does not grow as the machine gets slower (a loaded
# machine, valgrind's ~50x); PROGRESS_CAP seconds send one anyway, so users
# see a slow model's progress move.
PROGRESS_EVERY = 0.5
PROGRESS_BATCHES = 32
PROGRESS_CAP = 2.0
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs; sent once when it starts."""

    worker: int
    job_dir: str
    job: ShardJob
    shards: tuple[Shard, ...]
    model: LocalModel
    runner: RunnerContext
    single_thread: bool
    close_fd: int | None = None


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Reporter:
    """Sums a shard's progress and sends it when PROGRESS_EVERY seconds and
    PROGRESS_BATCHES batches have passed since the last message, or
    PROGRESS_CAP seconds. What is left at the shard's end is not sent: the
    shard's `Published` record carries its exact counts."""

    def __init__(
        self, results: Any, index: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._results = results
        self._index = index
        self._clock = clock
        self._done = 0
        self._failed = 0
        self._batches = 0
        self._last = clock()

    def __call__(self, done: int, failed: int) -> None:
        self._done += done
        self._failed += failed
        self._batches += 1
        now = self._clock()
        elapsed = now - self._last
        if elapsed < PROGRESS_EVERY or (
            self._batches < PROGRESS_BATCHES and elapsed < PROGRESS_CAP
        ):
            return
        self._results.send(Progress(self._index, self._done, self._failed))
        self._done = self._failed = self._batches = 0
        self._last = now


def worker_main(cfg: WorkerConfig, tasks: Any, results: Any) -> None:
    """Entry point of a worker process."""
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(1)
    if cfg.close_fd is not None:
        with contextlib.suppress(OSError):
            os.close(cfg.close_fd)  # the supervisor lock must die with the supervisor
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the supervisor's business
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the supervisor's handler (fork)
    if cfg.single_thread:
        for var in THREAD_VARS:
            os.environ.setdefault(var, "1")
    try:
        runner = load_runner(cfg.model, cfg.runner)
    except Exception as exc:
        results.send(_fatal(exc, "loading the model"))
        return
    results.send(Ready(f"pid {os.getpid()}"))
    try:
        _serve(cfg, runner, tasks, results)
    finally:
        with contextlib.suppress(Exception):
            runner.close()


def _fatal(exc: Exception, what: str) -> Fatal:
    """What a worker sends before it stops on `exc`: a BatchspecError's own
    message and hint, anything else named with its traceback on the worker's
    log (both the model load and a shard end a worker the same way)."""
    if isinstance(exc, BatchspecError):
        return Fatal(exc.message, exc.hint)
    traceback.print_exc()
    return Fatal(f"{what} failed: {type(exc).__name__}: {exc}")


def _serve(cfg: WorkerConfig, runner: Any, tasks: Any, results: Any) -> None:
    job_dir = JobDir(Path(cfg.job_dir))
    by_index = {s.index: s for s in cfg.shards}
    while True:
        try:
            index = tasks.recv()
        except (EOFError, OSError):  # the supervisor is gone
            return
        if index is None:
            return
        try:
            result = process_shard(cfg.job, by_index[index], runner, Reporter(results, index))
        except Exception as exc:
            results.send(_fatal(exc, f"shard {index}"))
            return
        job_dir.write_shard(result.to_json())
        results.send(Published(result))
