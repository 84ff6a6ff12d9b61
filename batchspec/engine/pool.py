"""The worker-pool seam: what runs a job's shards, and what it reports to.

The supervisor (planning, resume, the error budget, the status record, the
manifest) is the same wherever shards run; only the pool differs:

* `engine.processpool.ProcessPool`: worker processes on this machine;
* `raycluster.pool.ActorPool`: Ray actors on a cluster.

A pool gets the job's work once (`PoolWork`), hands shards to its workers
one at a time (`ShardQueue`, which also retries a shard whose worker was
lost, at most `MAX_SHARD_ATTEMPTS` times), and reports every event to the
`PoolHost` (the supervisor's run). Between events it calls `host.tick()`,
which raises `Stop` when the job must end early (cancelled, stopped by a
signal, error budget exceeded); so does the pool for a broken model or a
shard that keeps failing. Either way the pool stops its workers on the way
out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from batchspec.engine.job import EngineJob
from batchspec.engine.jobdir import JobDir
from batchspec.engine.messages import Fatal
from batchspec.engine.plan import Shard
from batchspec.engine.runners.base import RunnerContext
from batchspec.engine.shard import ShardJob, ShardResult
from batchspec.model.enums import JobState

TICK = 0.2  # seconds between housekeeping rounds
MAX_SHARD_ATTEMPTS = 3


class Stop(Exception):  # noqa: N818 - control flow, not an error
    """Ends the run with a state, or with None: paused, resumable later."""

    def __init__(self, state: JobState | None, message: str | None = None, hint: str | None = None):
        super().__init__(message or (state.value if state else "stopped"))
        self.state = state
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class PoolWork:
    """What a pool needs to run a job's shards (workers get it once)."""

    job: EngineJob
    shard_job: ShardJob
    shards: tuple[Shard, ...]
    todo: tuple[int, ...]
    runner: RunnerContext  # `worker` is set per worker
    limit: int  # at most this many workers: maxWorkerCount, and the caller's cap
    job_dir: JobDir
    lock_fd: int | None = None  # the supervisor's lock: a forked worker closes it


class PoolHost(Protocol):
    """What a pool reports to: the supervisor's run of the job."""

    def log(self, message: str) -> None:
        """Append a line to the job's event log."""
        ...

    def describe_shard(self, index: int) -> str:
        """Where a shard reads from, for messages (`file lines 1-500`)."""
        ...

    def shard_started(self, index: int) -> None:
        """A worker took the shard."""
        ...

    def shard_progress(self, index: int, done: int, failed: int) -> None:
        """Instances done and failed in a running shard since the last report."""
        ...

    def shard_published(self, result: ShardResult, by: str) -> None:
        """The shard's files are in place and its record is written."""
        ...

    def shard_abandoned(self, index: int) -> None:
        """The shard's worker was lost: its partial counts no longer count."""
        ...

    def signalled(self) -> None:
        """A stop signal arrived (for pools that take the signal handlers back)."""
        ...

    def tick(self) -> None:
        """Housekeeping between events; raises `Stop` to end the run."""
        ...


class WorkerPool(Protocol):
    """Runs shards on workers that each load the model once."""

    def run(self, work: PoolWork, host: PoolHost) -> None:
        """Run every shard in `work.todo` to its published files, or raise
        `Stop`; every worker is stopped when this returns or raises."""
        ...


class ShardQueue:
    """Shards waiting for a worker, and how often each was tried."""

    def __init__(self, todo: Sequence[int]) -> None:
        self._pending: deque[int] = deque(todo)
        self._attempts: dict[int, int] = {}

    def __bool__(self) -> bool:
        return bool(self._pending)

    def take(self) -> int | None:
        """The next shard, or None when none is waiting."""
        return self._pending.popleft() if self._pending else None

    def give_back(self, shard: int) -> int:
        """A shard whose worker was lost: put it first in line again, unless
        it has now failed `MAX_SHARD_ATTEMPTS` times. Returns its failures so
        far; the caller stops the job when that reached the limit."""
        tries = self._attempts.get(shard, 0) + 1
        self._attempts[shard] = tries
        if tries < MAX_SHARD_ATTEMPTS:
            self._pending.appendleft(shard)
        return tries


def fatal_stop(host: PoolHost, who: str, fatal: Fatal) -> Stop:
    """A broken model fails the job, as any other worker would meet it too:
    say which worker found it, and the `Stop` to raise."""
    host.log(f"{who}: {fatal.message}")
    return Stop(JobState.FAILED, fatal.message, fatal.hint)
