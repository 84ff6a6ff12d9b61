"""The supervisor: one process per running job, detached from whoever started it.

`python -m batchspec.engine.supervisor JOB_DIR` runs (or resumes) the job in
that folder to a terminal state. It holds the folder's lock for its whole
life, plans the shards on the first start and checks the output location
(`prepare`), hands the shards to a worker pool (`pool`: worker processes
here, Ray actors on a cluster), keeps the status record (state, counts,
heartbeat) up to date, honours cancellation, enforces the error budget
(`jobrun`), and on the way out writes the manifest and the terminal state.

Restarting it after a crash or a SIGKILL resumes from the published shards:
the plan is reused, shards with a record and their files in place are
skipped, everything else is redone from scratch, so the output is byte for
byte what an uninterrupted run writes. SIGTERM stops it cleanly without a
terminal state, so the job can be resumed later.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from batchspec.engine.instances import FieldConfig
from batchspec.engine.job import EngineJob
from batchspec.engine.jobdir import JobDir, now_iso
from batchspec.engine.jobrun import JobRun
from batchspec.engine.output import OutputStore
from batchspec.engine.plan import ShardPlan
from batchspec.engine.pool import PoolWork, Stop, WorkerPool
from batchspec.engine.prepare import claim_output, load_or_plan, published_shards
from batchspec.engine.processpool import ProcessPool
from batchspec.engine.runners.base import RunnerContext
from batchspec.engine.shard import ShardJob
from batchspec.engine.stores import make_store
from batchspec.errors import BatchspecError
from batchspec.model.enums import JobState

__all__ = ["Stop", "Supervisor", "main", "supervise"]


class Supervisor:
    """Runs one job folder to the end (or until stopped)."""

    def __init__(
        self,
        job_dir: JobDir,
        *,
        pool: WorkerPool | None = None,
        max_workers: int | None = None,
        lock_fd: int | None = None,
        signal_cancels: bool = False,
        list_outputs: bool = False,
    ) -> None:
        self.jd = job_dir
        self.pool: WorkerPool = pool or ProcessPool()
        self.max_workers = max_workers
        self.lock_fd = lock_fd
        self.signal_cancels = signal_cancels  # Ray's stop_job: a signal cancels
        self.list_outputs = list_outputs  # the final status names every output file
        self.job: EngineJob | None = None
        self.store: OutputStore | None = None
        self.jobrun: JobRun | None = None
        self.owns_output = False
        self.stopping = False

    def log(self, message: str) -> None:
        """Append a line to the job's event log."""
        self.jd.log(message)

    def signalled(self) -> None:
        """SIGTERM or SIGINT arrived: stop at the next housekeeping round."""
        self.stopping = True
        if self.jobrun is not None:
            self.jobrun.signalled()

    # --- entry ----------------------------------------------------------------------------

    def run(self) -> JobState | None:
        """Run to a terminal state; None when stopped by a signal (resumable)."""
        status = self.jd.read_status()
        state = JobState(status.get("state", JobState.QUEUED))
        if state.terminal:
            return state
        if self.jd.cancel_requested():
            return self._finish(JobState.CANCELLED)
        starts = int(status.get("starts", 0)) + 1
        self.jd.update_status(
            state=JobState.RUNNING.value,
            startTime=status.get("startTime") or now_iso(),
            pid=os.getpid(),
            starts=starts,
            error=None,
        )
        self.log(f"supervisor {os.getpid()} started (start {starts})")
        try:
            self.job = EngineJob.from_record(self.jd.read_job_to_run())
            return self._execute(self.job)
        except Stop as stop:
            if stop.state is None:
                self.log("stopped by a signal; resume by submitting the job again")
                if self.jobrun is not None:
                    self.jobrun.write_progress(durable=True)
                else:
                    self.jd.update_status(durable=True, **self._counts())
                return None
            return self._finish(stop.state, stop.message, stop.hint)
        except BatchspecError as exc:
            self.log(f"failed: {exc.message}")
            return self._finish(JobState.FAILED, exc.message, exc.hint)
        except Exception as exc:
            traceback.print_exc()
            self.log(f"internal error: {type(exc).__name__}: {exc}")
            return self._finish(
                JobState.FAILED,
                f"internal error: {type(exc).__name__}: {exc}",
                f"this is a bug in batchspec; the traceback is in {self.jd.logs}",
            )

    # --- the run ----------------------------------------------------------------------------

    def _execute(self, job: EngineJob) -> JobState:
        self.store = store = make_store(job, self.jd.path)
        plan = self._prepare(job, store)
        done = published_shards(self.jd, plan, store)
        run = JobRun(
            self.jd, job, store, plan, done, log=self.log, signal_cancels=self.signal_cancels
        )
        self.jobrun = run
        run.stopping = self.stopping
        if done:
            self.log(f"{len(done)} of {len(plan.shards)} shards already published")
        run.write_progress(durable=True)
        todo = tuple(s.index for s in plan.shards if s.index not in done)
        run.check_budget()
        if todo:
            self.pool.run(self._work(job, store, plan, todo), run)
        state, message = run.final_state()
        if state is JobState.FAILED:
            return self._finish(state, message, run.errors_hint())
        if job.output_tables is not None:
            completed, failed = run.totals()
            self.log(
                f"loading {completed:,} predictions and {failed:,} errors into"
                f" {job.output_tables.dataset_uri}"
            )
        store.commit(run.published_names(), *run.totals())
        return self._finish(state)

    def _prepare(self, job: EngineJob, store: OutputStore) -> ShardPlan:
        planned = load_or_plan(self.jd, job)
        store.prepare()
        if planned.saved:
            self.owns_output = True
            self.log(f"resuming with the saved plan ({len(planned.plan.shards)} shards)")
            return planned.plan
        note = claim_output(self.jd, job, store)
        if note:
            self.log(note)
        self.owns_output = True  # from here on the folder is this job's to write
        self.jd.clear_shards()
        self.jd.write_plan(planned.plan.to_json())
        self.log(planned.describe(job))
        return planned.plan

    def _work(
        self, job: EngineJob, store: OutputStore, plan: ShardPlan, todo: tuple[int, ...]
    ) -> PoolWork:
        spec = job.effective
        limit = spec.resources.max_worker_count
        if self.max_workers is not None:
            limit = min(limit, self.max_workers)
        return PoolWork(
            job=job,
            shard_job=ShardJob(
                input_format=spec.input.format,
                output_format=spec.output.format,
                fields=FieldConfig.from_spec(spec.input),
                tf_decode=spec.input.tf_record_decode,
                batch_size=spec.resources.batch_size,
                shard_count=len(plan.shards),
                store=store,
            ),
            shards=plan.shards,
            todo=todo,
            runner=RunnerContext(
                spec_dir=job.spec_dir,
                job_name=job.name,
                batch_size=spec.resources.batch_size,
                log_dir=self.jd.logs,
                parameters=spec.model_parameters,
            ),
            limit=limit,
            job_dir=self.jd,
            lock_fd=self.lock_fd,
        )

    # --- the end ----------------------------------------------------------------------------

    def _counts(self) -> dict[str, Any]:
        if self.jobrun is not None:
            return self.jobrun.counts()
        return {
            "completedCount": 0,
            "failedCount": 0,
            "totalCount": None,
            "shardsDone": 0,
            "shardsTotal": None,
            "outputLocation": self.job.output if self.job else None,
        }

    def _finish(
        self, state: JobState, message: str | None = None, hint: str | None = None
    ) -> JobState:
        run, store = self.jobrun, self.store
        if run is not None:
            run.inflight.clear()
        extra: dict[str, Any] = {}
        if self.owns_output and store is not None:  # never touch a folder we refused
            if run is not None:
                try:
                    run.write_manifest(state)
                except (OSError, BatchspecError) as exc:
                    self.log(f"could not write the manifest: {exc}")
                if self.list_outputs:
                    extra["outputFiles"] = [store.url(n) for n in run.published_names()]
            store.clear_staging()
        elif store is not None:
            store.drop_empty_staging()
        if self.list_outputs and "outputFiles" not in extra:
            extra["outputFiles"] = []
        error = {"message": message, "hint": hint} if message else None
        self.jd.update_status(
            state=state.value,
            endTime=now_iso(),
            error=error,
            peakWorkerRssKb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            supervisorRssKb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            **self._counts(),
            **extra,
        )
        self.log(f"finished: {state.value}" + (f": {message}" if message else ""))
        return state


def supervise(
    job_dir: Path | JobDir,
    *,
    max_workers: int | None = None,
    pool: WorkerPool | None = None,
    signal_cancels: bool = False,
    list_outputs: bool = False,
) -> JobState | None:
    """Run or resume the job in `job_dir` in this process. Returns the
    terminal state, or None when another supervisor holds the job or this one
    was stopped by a signal.

    `pool` runs the shards: worker processes on this machine by default (at
    most `max_workers`), Ray actors for the Ray entrypoint, which also makes
    a signal cancel the job (`signal_cancels`: Ray's stop_job) and lists the
    output files in the final status (`list_outputs`: its client cannot read
    the job folder). `job_dir` may be a `JobDir` subclass that also reports
    elsewhere."""
    jd = job_dir if isinstance(job_dir, JobDir) else JobDir(job_dir)
    with jd.lock(wait=5.0) as fd:
        if fd is None:
            return None
        sup = Supervisor(
            jd,
            pool=pool,
            max_workers=max_workers,
            lock_fd=fd,
            signal_cancels=signal_cancels,
            list_outputs=list_outputs,
        )
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda *_: sup.signalled())
        try:
            return sup.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """`python -m batchspec.engine.supervisor JOB_DIR`."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m batchspec.engine.supervisor JOB_DIR", file=sys.stderr)
        return 2
    state = supervise(Path(args[0]))
    return 0 if state is None or state.successful else 1


if __name__ == "__main__":
    sys.exit(main())
