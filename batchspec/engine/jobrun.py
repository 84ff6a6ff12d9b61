"""One run of a job as its pool reports it: published shards, counts, the
status record's heartbeat, the error budget and the manifest.

`JobRun` is the `PoolHost` the supervisor hands to its pool. Counts come in
two parts: whole published shards (durable: their records survive a crash)
and the running shards' progress so far (`inflight`), which is dropped when
a shard's worker is lost, because the shard is redone from scratch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from batchspec.engine.budget import Budget
from batchspec.engine.fileio import encode_json
from batchspec.engine.job import EngineJob
from batchspec.engine.jobdir import JobDir
from batchspec.engine.output import MANIFEST_NAME, OutputStore
from batchspec.engine.plan import ShardPlan
from batchspec.engine.pool import Stop
from batchspec.engine.shard import ShardResult
from batchspec.model.enums import JobState

PROGRESS_EVERY = 0.5  # seconds between progress writes of the status record
# Seconds between writes of a status record whose counts did not change (the
# heartbeat alone): readers call a supervisor stale after 30 s without one
# (backends.local), and a write per tick on a slow machine cost more than
# the counts it repeated.
HEARTBEAT_EVERY = 5.0


class JobRun:
    """The shards of one job, as they are published."""

    def __init__(
        self,
        jd: JobDir,
        job: EngineJob,
        store: OutputStore,
        plan: ShardPlan,
        done: dict[int, ShardResult],
        *,
        log: Callable[[str], None],
        signal_cancels: bool = False,
    ) -> None:
        self.jd = jd
        self.job = job
        self.store = store
        self.plan = plan
        self.done = dict(done)
        self.budget = Budget.from_policy(job.effective.policy)
        self.completed = sum(r.completed for r in done.values())
        self.failed = sum(r.failed for r in done.values())
        self.inflight: dict[int, list[int]] = {}
        self.stopping = False
        self._log = log
        self._signal_cancels = signal_cancels
        self._last_status = 0.0
        self._last_counts: dict[str, Any] = {}

    # --- the PoolHost ---------------------------------------------------------------------

    def log(self, message: str) -> None:
        """Append a line to the job's event log."""
        self._log(message)

    def describe_shard(self, index: int) -> str:
        """`uri`, or `uri lines a-b` (`rows` for a table) for part of a file."""
        s = self.plan.shards[index]
        if s.lines is None:
            return s.uri
        unit = "rows" if s.uri.startswith("bq://") else "lines"
        return f"{s.uri} {unit} {s.first}-{s.first + max(s.lines - 1, 0)}"

    def shard_started(self, index: int) -> None:
        """A worker took the shard: count its progress from zero."""
        self.inflight[index] = [0, 0]

    def shard_progress(self, index: int, done: int, failed: int) -> None:
        """Progress of a running shard."""
        slot = self.inflight.get(index)
        if slot is not None:
            slot[0] += done
            slot[1] += failed

    def shard_published(self, result: ShardResult, by: str) -> None:
        """The shard's files are in place: its counts become durable."""
        self.inflight.pop(result.index, None)
        self.done[result.index] = result
        self.completed += result.completed
        self.failed += result.failed
        self.log(
            f"shard {result.index} published by {by}: {result.completed}"
            f" predictions, {result.failed} failed"
        )

    def shard_abandoned(self, index: int) -> None:
        """The shard will be redone: forget its partial counts."""
        self.inflight.pop(index, None)

    def signalled(self) -> None:
        """SIGTERM or SIGINT: pause the job (or cancel it, on Ray)."""
        self.stopping = True

    def tick(self) -> None:
        """Signals, cancellation, the error budget, then the heartbeat."""
        if self.stopping:
            if not self._signal_cancels:
                raise Stop(None)
            if not self.jd.cancel_requested():
                self.jd.request_cancel()
        if self.jd.cancel_requested():
            self.log("cancel requested")
            raise Stop(JobState.CANCELLED)
        self.check_budget()
        self.write_progress()

    # --- counts and the budget ----------------------------------------------------------------

    def totals(self) -> tuple[int, int]:
        """Instances done and failed, running shards included."""
        done = self.completed + sum(v[0] for v in self.inflight.values())
        failed = self.failed + sum(v[1] for v in self.inflight.values())
        return done, failed

    def check_budget(self) -> None:
        """Stop as soon as the failures certainly exceed the budget."""
        _, failed = self.totals()
        total = self.plan.total
        if self.budget.exceeded_early(failed, total):
            raise Stop(
                JobState.FAILED,
                f"error budget exceeded: {self.budget.describe(failed, total)}; stopped early",
                self.errors_hint(),
            )

    def final_state(self) -> tuple[JobState, str | None]:
        """The state every shard published adds up to, and why when FAILED."""
        completed, failed = self.totals()
        state = self.budget.final_state(completed, failed)
        if state is JobState.FAILED:
            return (
                state,
                f"error budget exceeded: {self.budget.describe(failed, completed + failed)}",
            )
        return state, None

    def errors_hint(self) -> str:
        """Where the error lines are, and how to allow more of them."""
        where = self.job.output
        if self.job.output_tables is not None:
            where = self.store.url("")  # a failed job loads no tables: its files stay here
        return (
            f"see prediction.errors_stats-* in {where}; raise policy.maxErrorFraction or"
            " policy.maxFailedInstances if these failures are expected"
        )

    # --- records --------------------------------------------------------------------------

    def counts(self) -> dict[str, Any]:
        """The counting part of the status record."""
        completed, failed = self.totals()
        return {
            "completedCount": completed,
            "failedCount": failed,
            "totalCount": self.plan.total,
            "shardsDone": len(self.done),
            "shardsTotal": len(self.plan.shards),
            "outputLocation": self.job.output,
        }

    def write_progress(self, *, durable: bool = False) -> None:
        """The status record's counts and heartbeat: unless `durable`, at most
        every PROGRESS_EVERY s, and counts that did not change since the last
        write only every HEARTBEAT_EVERY s."""
        now = time.monotonic()
        since = now - self._last_status
        if not durable and since < PROGRESS_EVERY:
            return
        counts = self.counts()
        if not durable and counts == self._last_counts and since < HEARTBEAT_EVERY:
            return
        self._last_status = now
        self._last_counts = counts
        self.jd.update_status(durable=durable, **counts)

    def published_names(self) -> list[str]:
        """Every published shard file, in shard order."""
        names = []
        for index in sorted(self.done):
            names.extend([self.done[index].results.name, self.done[index].errors.name])
        return names

    def manifest(self, state: JobState) -> dict[str, Any]:
        """The output's manifest: what was published, with checksums."""
        files = []
        for index in sorted(self.done):
            r = self.done[index]
            files.extend([r.results.__dict__, r.errors.__dict__])
        completed, failed = self.totals()
        return {
            "apiVersion": "batchspec.dev/v1",
            "kind": "BatchPredictionOutput",
            "job": self.job.name,
            "fingerprint": self.job.fingerprint,
            "state": state.value,
            "outputFormat": self.job.effective.output.format.value,
            "shards": len(self.plan.shards),
            "completedCount": completed,
            "failedCount": failed,
            "files": files,
        }

    def write_manifest(self, state: JobState) -> None:
        """Publish the manifest next to the results (staged, then in place)."""
        data = encode_json(self.manifest(state))
        staged = self.store.staging_file(MANIFEST_NAME)
        with open(staged, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.store.publish(staged, MANIFEST_NAME)
