"""The local pool: worker processes on this machine.

min(maxWorkerCount, cores, shards) workers, each started with the job's work
(`WorkerConfig`) and two pipes of its own: shard indexes in, `messages` out.
A worker's pipe reaching EOF means it exited or died; its exit code says how.
A worker lost on a shard is replaced and the shard retried from scratch (at
most `MAX_SHARD_ATTEMPTS` times); a worker lost before it took a shard fails
the job (the model cannot load), as does a `Fatal` message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import multiprocessing.connection as mp_connection
import os
import pickle
import time
from dataclasses import dataclass
from typing import Any

from batchspec.engine.messages import Fatal, Progress, Published, Ready, ShardFailed, WorkerMessage
from batchspec.engine.pool import (
    MAX_SHARD_ATTEMPTS,
    TICK,
    PoolHost,
    PoolWork,
    ShardQueue,
    Stop,
    fatal_stop,
)
from batchspec.engine.runners.loader import preload
from batchspec.engine.runners.process import exit_text
from batchspec.engine.worker import THREAD_VARS, WorkerConfig, worker_main
from batchspec.model.enums import JobState
from batchspec.model.spec import HttpRunner

STOP_GRACE = 3.0  # seconds a worker gets to exit before it is killed
PRELOAD_ENV = "BATCHSPEC_PRELOAD"  # auto (2+ workers), always, never


def available_cores() -> int:
    """Cores this process may use (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _preload_wanted(workers: int) -> bool:
    wanted = os.environ.get(PRELOAD_ENV, "auto")
    return wanted == "always" or (wanted != "never" and workers > 1)


def start_method() -> str:
    """`fork` where it exists (workers start in milliseconds and inherit the
    imported engine), `spawn` elsewhere; BATCHSPEC_START_METHOD overrides."""
    wanted = os.environ.get("BATCHSPEC_START_METHOD")
    if wanted:
        return wanted
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


@dataclass
class _Worker:
    wid: int
    process: Any
    tasks: Any  # shard indexes to the worker
    messages: Any  # messages from the worker
    shard: int | None = None
    released: bool = False  # told there is no more work
    silent: bool = False  # its message pipe is closed (it exited or died)


class ProcessPool:
    """Worker processes on this machine (the local engine's pool)."""

    def run(self, work: PoolWork, host: PoolHost) -> None:
        """Run every shard of `work.todo`, or raise `Stop`."""
        run = _ProcessRun(work, host)
        try:
            run.start()
            run.loop()
            run.finish()
        finally:
            run.stop_all()


class _ProcessRun:
    """One run of the pool: its workers and the shards still to hand out."""

    def __init__(self, work: PoolWork, host: PoolHost) -> None:
        self.work = work
        self.host = host
        self.ctx: Any = multiprocessing.get_context(start_method())
        self.queue = ShardQueue(work.todo)
        self.workers: dict[int, _Worker] = {}
        self.next_wid = 0
        self.count = self._count()

    def _count(self) -> int:
        limit = self.work.limit
        model = self.work.job.model
        if isinstance(model, HttpRunner) and model.port is not None and limit > 1:
            self.host.log(f"the http runner has a fixed port ({model.port}): one worker")
            limit = 1
        return max(1, min(limit, available_cores(), len(self.work.todo)))

    # --- workers ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers (each loads the model, then asks for work).

        Several forked workers share one import of the model's libraries
        (scikit-learn, onnxruntime) when the supervisor imports them first,
        a saving of one import per extra worker. A single worker gains
        nothing from it, and the supervisor would carry the libraries (and
        their thread pools) for the whole job, which measured slower; so the
        supervisor preloads only for two workers or more (figures in
        docs/local-engine.md, "Cost"; BATCHSPEC_PRELOAD=always|never
        overrides, for measuring)."""
        if self.count > 1:
            for var in THREAD_VARS:  # one core per worker; set before numpy loads
                os.environ.setdefault(var, "1")
        if start_method() == "fork" and _preload_wanted(self.count):
            preload(self.work.job.model, self.work.runner)
        self.host.log(f"starting {self.count} worker(s) for {len(self.work.todo)} shard(s)")
        for _ in range(self.count):
            self.start_worker()

    def start_worker(self) -> None:
        """One more worker process."""
        wid = self.next_wid
        self.next_wid += 1
        recv, send = self.ctx.Pipe(duplex=False)
        messages, reply = self.ctx.Pipe(duplex=False)
        work = self.work
        cfg = WorkerConfig(
            worker=wid,
            job_dir=str(work.job_dir.path),
            job=work.shard_job,
            shards=work.shards,
            model=work.job.model,
            runner=dataclasses.replace(work.runner, worker=wid),
            single_thread=self.count > 1,
            close_fd=work.lock_fd,
        )
        proc = self.ctx.Process(
            target=worker_main, args=(cfg, recv, reply), name=f"batchspec-worker-{wid}"
        )
        proc.daemon = True
        proc.start()
        recv.close()
        reply.close()  # the worker holds the only write end: its death is EOF here
        self.workers[wid] = _Worker(wid, proc, send, messages)

    def assign(self, w: _Worker) -> None:
        """Give the worker the next shard, or tell it there is none."""
        shard = self.queue.take()
        w.shard = shard
        if shard is None:
            w.released = True
        else:
            self.host.shard_started(shard)
        with contextlib.suppress(OSError):  # a dead worker: `reap` requeues its shard
            w.tasks.send(shard)

    # --- the loop -----------------------------------------------------------------------

    def loop(self) -> None:
        """Until every shard is published (or `Stop`)."""
        while self.queue or any(w.shard is not None for w in self.workers.values()):
            self.pump()
            self.reap()
            self.host.tick()

    def pump(self) -> None:
        """Handle what the workers sent, waiting up to TICK for something."""
        open_pipes = {w.messages: w for w in self.workers.values() if not w.silent}
        if not open_pipes:
            time.sleep(TICK)
            return
        for ready in mp_connection.wait(list(open_pipes), timeout=TICK):
            w = open_pipes[ready]
            pipe: Any = w.messages
            try:
                while pipe.poll():
                    self.handle(w, pipe.recv())
            except (EOFError, OSError, pickle.UnpicklingError):  # gone mid-message
                w.silent = True  # `reap` reads its exit code

    def handle(self, w: _Worker, msg: WorkerMessage) -> None:
        """React to one message of worker `w`."""
        match msg:
            case Ready(where):
                self.host.log(f"worker {w.wid} ({where}) loaded the model")
                self.assign(w)
            case Progress(shard, done, failed):
                if w.shard == shard:
                    self.host.shard_progress(shard, done, failed)
            case Published(result):
                self.host.shard_published(result, f"worker {w.wid}")
                self.assign(w)
            case Fatal() as fatal:
                raise fatal_stop(self.host, f"worker {w.wid}", fatal)
            case ShardFailed(shard, message):
                self.host.log(f"worker {w.wid}: shard {shard} failed: {message}")
                w.process.kill()  # `reap` retries the shard on a new worker

    def reap(self) -> None:
        """Workers that exited: replace a lost one and retry its shard."""
        for w in list(self.workers.values()):
            code = w.process.exitcode
            if code is None or (w.released and code == 0):
                continue
            del self.workers[w.wid]
            with contextlib.suppress(OSError):
                w.messages.close()
            if w.shard is None:
                if not w.released:  # died while loading or idle
                    raise Stop(
                        JobState.FAILED,
                        f"worker {w.wid} {exit_text(code)} before it took a shard",
                        f"see the logs in {self.work.job_dir.logs}",
                    )
                continue
            self.lost(w, code)

    def lost(self, w: _Worker, code: int) -> None:
        """Worker `w` died on its shard: retry the shard on a new worker."""
        shard = w.shard
        assert shard is not None
        self.host.shard_abandoned(shard)
        where = self.host.describe_shard(shard)
        self.host.log(f"worker {w.wid} {exit_text(code)} on shard {shard} ({where})")
        tries = self.queue.give_back(shard)
        if tries >= MAX_SHARD_ATTEMPTS:
            raise Stop(
                JobState.FAILED,
                f"a worker {exit_text(code)} on shard {shard} ({where}) {tries} times",
                "a model that runs out of memory is killed by SIGKILL: lower"
                " `resources.batchSize` or `maxWorkerCount`; logs are in "
                + str(self.work.job_dir.logs),
            )
        self.start_worker()

    # --- the end ------------------------------------------------------------------------

    def finish(self) -> None:
        """Every shard is published: release idle workers and let them exit."""
        for w in self.workers.values():
            if not w.released:  # its "ready" came after the last shard: nothing to do
                self.assign(w)
        for w in self.workers.values():
            w.process.join(STOP_GRACE)

    def stop_all(self) -> None:
        """Stop whatever workers are left (terminate, then kill)."""
        for w in self.workers.values():
            with contextlib.suppress(OSError):
                w.tasks.close()
                w.messages.close()
            if w.process.is_alive():
                w.process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for w in self.workers.values():
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
