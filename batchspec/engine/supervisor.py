"""The supervisor: one process per running job, detached from whoever started it.

`python -m batchspec.engine.supervisor JOB_DIR` runs (or resumes) the job in
that folder to a terminal state. It holds the folder's lock for its whole
life, plans the shards on the first start, checks the output location, starts
min(maxWorkerCount, cores, shards) worker processes, hands each worker one
shard at a time, keeps the status record (state, counts, heartbeat) up to
date, honours cancellation, enforces the error budget, and on the way out
writes the manifest and the terminal state.

Restarting it after a crash or a SIGKILL resumes from the published shards:
the plan is reused, shards with a record and their files in place are
skipped, everything else is redone from scratch, so the output is byte for
byte what an uninterrupted run writes. SIGTERM stops it cleanly without a
terminal state, so the job can be resumed later.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection as mp_connection
import os
import pickle
import resource
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchspec.engine.budget import Budget
from batchspec.engine.errors import OutputError
from batchspec.engine.fileio import encode_json
from batchspec.engine.instances import FieldConfig
from batchspec.engine.job import EngineJob
from batchspec.engine.jobdir import JobDir, now_iso
from batchspec.engine.output import MANIFEST_NAME, OutputStore, make_store
from batchspec.engine.plan import ShardPlan, check_unchanged, plan_shards
from batchspec.engine.runners.base import RunnerContext, preload
from batchspec.engine.shard import ShardJob, ShardResult
from batchspec.engine.worker import THREAD_VARS, WorkerConfig, worker_main
from batchspec.errors import BatchspecError
from batchspec.io import storage
from batchspec.model.enums import JobState
from batchspec.model.spec import HttpRunner

TICK = 0.2  # seconds between housekeeping rounds
MAX_SHARD_ATTEMPTS = 3
STOP_GRACE = 3.0


def available_cores() -> int:
    """Cores this process may use (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def start_method() -> str:
    """`fork` where it exists (workers start in milliseconds and inherit the
    imported engine), `spawn` elsewhere; BATCHSPEC_START_METHOD overrides."""
    wanted = os.environ.get("BATCHSPEC_START_METHOD")
    if wanted:
        return wanted
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


class Stop(Exception):  # noqa: N818 - control flow, not an error
    """Raised inside the pool loop to end the run with a state (or None: pause)."""

    def __init__(self, state: JobState | None, message: str | None = None, hint: str | None = None):
        super().__init__(message or (state.value if state else "stopped"))
        self.state = state
        self.message = message
        self.hint = hint


@dataclass
class _Worker:
    wid: int
    process: Any
    conn: Any  # tasks to the worker
    messages: Any  # messages from the worker
    shard: int | None = None
    released: bool = False
    silent: bool = False  # its message pipe is closed (it exited or died)


@dataclass
class _Progress:
    completed: int = 0
    failed: int = 0
    inflight: dict[int, list[int]] = field(default_factory=dict)

    def totals(self) -> tuple[int, int]:
        done = self.completed + sum(v[0] for v in self.inflight.values())
        failed = self.failed + sum(v[1] for v in self.inflight.values())
        return done, failed


class Supervisor:
    """Runs one job folder to the end (or until stopped)."""

    def __init__(self, job_dir: JobDir, *, max_workers: int | None = None) -> None:
        self.jd = job_dir
        self.max_workers = max_workers
        self.store: OutputStore | None = None
        self.plan: ShardPlan | None = None
        self.job: EngineJob | None = None
        self.done: dict[int, ShardResult] = {}
        self.progress = _Progress()
        self.stopping = False
        self.owns_output = False
        self._last_status = 0.0

    # --- events -----------------------------------------------------------------

    def log(self, message: str) -> None:
        """Append a line to the job's event log."""
        with open(self.jd.logs / "events.log", "a", encoding="utf-8") as fh:
            fh.write(f"{now_iso()} {message}\n")

    # --- entry ------------------------------------------------------------------

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
                self._write_progress(durable=True)
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

    # --- planning -----------------------------------------------------------------

    def _prepare(self, job: EngineJob, store: OutputStore) -> ShardPlan:
        saved = self.jd.read_plan()
        if saved is not None:
            plan = ShardPlan.from_json(saved)
            check_unchanged(plan)
            store.prepare()
            self.owns_output = True
            self.log(f"resuming with the saved plan ({len(plan.shards)} shards)")
            return plan
        spec = job.effective
        files = list(job.inputs) if job.reads_table else storage.expand_all(list(job.inputs))
        plan = plan_shards(
            files,
            spec.input.format,
            max_workers=spec.resources.max_worker_count,
            batch_size=spec.resources.batch_size,
        )
        store.prepare()
        self._check_output(job, store)
        self.owns_output = True  # from here on the folder is this job's to write
        self.jd.clear_shards()
        self.jd.write_plan(plan.to_json())
        total = "unknown" if plan.total is None else f"{plan.total:,}"
        over = files[0] if job.reads_table else f"{len(files)} files"
        self.log(f"planned {len(plan.shards)} shards over {over} ({total} instances)")
        return plan

    def _check_output(self, job: EngineJob, store: OutputStore) -> None:
        self._check_not_shared(job)
        existing = store.existing()
        if existing and not job.effective.output.overwrite:
            shown = ", ".join(existing[:3]) + (", ..." if len(existing) > 3 else "")
            raise OutputError(
                f"the output location {job.output} already holds results ({shown})",
                hint="set `output.overwrite: true` to replace them, or choose another"
                " `output.path`",
            )
        if existing:
            store.remove(existing)
            self.log(f"overwrite: removed {len(existing)} earlier result files")

    def _check_not_shared(self, job: EngineJob) -> None:
        """Two live jobs writing one folder would interleave their shards."""
        for other in self.jd.path.parent.iterdir():
            if other == self.jd.path or not (other / "job.json").exists():
                continue
            od = JobDir(other)
            state = od.read_status().get("state")
            if state is None or JobState(state).terminal or not od.supervisor_alive():
                continue
            try:
                other_job = EngineJob.from_record(od.read_job())
            except BatchspecError:
                continue
            if other_job.output == job.output:
                raise OutputError(
                    f"job {other_job.id} ({state}) is writing to the same output folder"
                    f" {job.output}",
                    hint="wait for it to finish or cancel it, or choose another `output.path`",
                )

    def _published(self, plan: ShardPlan, store: OutputStore) -> dict[int, ShardResult]:
        """Recorded shards whose files are still in place, as recorded."""
        done = {}
        for index, rec in self.jd.shard_records().items():
            if index >= len(plan.shards):
                continue
            result = ShardResult.from_json(rec)
            if (
                store.size(result.results.name) == result.results.bytes
                and store.size(result.errors.name) == result.errors.bytes
            ):
                done[index] = result
        return done

    # --- execution ----------------------------------------------------------------

    def _execute(self, job: EngineJob) -> JobState | None:
        store = make_store(job, self.jd.path)
        self.store = store
        self.plan = plan = self._prepare(job, store)
        self.done = self._published(plan, store)
        self.progress.completed = sum(r.completed for r in self.done.values())
        self.progress.failed = sum(r.failed for r in self.done.values())
        if self.done:
            self.log(f"{len(self.done)} of {len(plan.shards)} shards already published")
        self._write_progress(durable=True)
        todo = [s.index for s in plan.shards if s.index not in self.done]
        budget = Budget.from_policy(job.effective.policy)
        self._check_budget(budget)
        if todo:
            self._run_pool(job, store, plan, todo, budget)
        completed, failed = self.progress.totals()
        state = budget.final_state(completed, failed)
        if state is JobState.FAILED:
            return self._finish(
                state,
                f"error budget exceeded: {budget.describe(failed, completed + failed)}",
                self._errors_hint(),
            )
        if job.output_tables is not None:
            self.log(
                f"loading {completed:,} predictions and {failed:,} errors into"
                f" {job.output_tables.dataset_uri}"
            )
        store.commit(self._published_names(), completed, failed)
        return self._finish(state)

    def _published_names(self) -> list[str]:
        """Every published shard file, in shard order."""
        names = []
        for index in sorted(self.done):
            names.extend([self.done[index].results.name, self.done[index].errors.name])
        return names

    def _errors_hint(self) -> str:
        where = "the output folder"
        if self.job and self.job.output_tables is not None and self.store is not None:
            where = self.store.url("")  # a failed job loads no tables: its files stay here
        elif self.job:
            where = self.job.output
        return (
            f"see prediction.errors_stats-* in {where}; raise policy.maxErrorFraction or"
            " policy.maxFailedInstances if these failures are expected"
        )

    def _check_budget(self, budget: Budget) -> None:
        _, failed = self.progress.totals()
        total = self.plan.total if self.plan else None
        if budget.exceeded_early(failed, total):
            raise Stop(
                JobState.FAILED,
                f"error budget exceeded: {budget.describe(failed, total)}; stopped early",
                self._errors_hint(),
            )

    def _shard_job(self, job: EngineJob, store: OutputStore, plan: ShardPlan) -> ShardJob:
        spec = job.effective
        return ShardJob(
            input_format=spec.input.format,
            output_format=spec.output.format,
            fields=FieldConfig.from_spec(spec.input),
            tf_decode=spec.input.tf_record_decode,
            batch_size=spec.resources.batch_size,
            shard_count=len(plan.shards),
            store=store,
        )

    def _worker_count(self, job: EngineJob, todo: int) -> int:
        limit = job.effective.resources.max_worker_count
        if self.max_workers is not None:
            limit = min(limit, self.max_workers)
        model = job.model
        if isinstance(model, HttpRunner) and model.port is not None and limit > 1:
            self.log(f"the http runner has a fixed port ({model.port}): one worker")
            limit = 1
        return max(1, min(limit, available_cores(), todo))

    def _run_pool(
        self, job: EngineJob, store: OutputStore, plan: ShardPlan, todo: list[int], budget: Budget
    ) -> None:
        ctx: Any = multiprocessing.get_context(start_method())
        count = self._worker_count(job, len(todo))
        shard_job = self._shard_job(job, store, plan)
        runner_ctx = RunnerContext(
            spec_dir=job.spec_dir,
            job_name=job.name,
            batch_size=job.effective.resources.batch_size,
            log_dir=self.jd.logs,
            parameters=job.effective.model_parameters,
            key_field=job.effective.input.key_field,
        )
        pending = list(todo)
        attempts: dict[int, int] = {}
        workers: dict[int, _Worker] = {}
        next_wid = 0

        def start_worker() -> None:
            nonlocal next_wid
            recv, send = ctx.Pipe(duplex=False)
            messages, reply = ctx.Pipe(duplex=False)
            cfg = WorkerConfig(
                worker=next_wid,
                job_dir=str(self.jd.path),
                job=shard_job,
                shards=plan.shards,
                model=job.model,
                runner=RunnerContext(**{**runner_ctx.__dict__, "worker": next_wid}),
                single_thread=count > 1,
                close_fd=self._lock_fd,
            )
            proc = ctx.Process(
                target=worker_main, args=(cfg, recv, reply), name=f"batchspec-worker-{next_wid}"
            )
            proc.daemon = True
            proc.start()
            recv.close()
            reply.close()  # the worker holds the only write end: its death is EOF here
            workers[next_wid] = _Worker(next_wid, proc, send, messages)
            next_wid += 1

        def assign(w: _Worker) -> None:
            if pending:
                w.shard = pending.pop(0)
                self.progress.inflight[w.shard] = [0, 0]
                with contextlib.suppress(OSError):  # a dead worker: housekeeping requeues
                    w.conn.send(w.shard)
            else:
                w.shard = None
                w.released = True
                with contextlib.suppress(OSError):
                    w.conn.send(None)

        if count > 1:
            for var in THREAD_VARS:  # one core per worker; set before numpy loads
                os.environ.setdefault(var, "1")
        if start_method() == "fork":
            preload(job.model)
        self.log(f"starting {count} worker(s) for {len(todo)} shard(s)")
        for _ in range(count):
            start_worker()
        try:
            while pending or any(w.shard is not None for w in workers.values()):
                self._pump(workers, assign)
                self._housekeeping(workers, pending, attempts, start_worker, budget)
            for w in workers.values():
                if not w.released:  # its "ready" came after the last shard: nothing to do
                    assign(w)
            for w in workers.values():
                w.process.join(STOP_GRACE)
        finally:
            self._stop_workers(workers)

    def _pump(self, workers: dict[int, _Worker], assign: Any) -> None:
        """Handle the messages the workers sent, waiting up to TICK for one."""
        open_pipes = {w.messages: w for w in workers.values() if not w.silent}
        if not open_pipes:
            time.sleep(TICK)
            return
        for ready in mp_connection.wait(list(open_pipes), timeout=TICK):
            w = open_pipes[ready]
            pipe: Any = w.messages
            try:
                while pipe.poll():
                    self._handle(pipe.recv(), workers, assign)
            except (EOFError, OSError, pickle.UnpicklingError):  # gone mid-message
                w.silent = True  # housekeeping reads its exit code

    def _handle(self, msg: tuple[Any, ...], workers: dict[int, _Worker], assign: Any) -> None:
        kind, wid = msg[0], msg[1]
        w = workers.get(wid)
        if w is None:
            return
        if kind == "ready":
            self.log(f"worker {wid} (pid {w.process.pid}) loaded the model")
            assign(w)
        elif kind == "progress":
            _, _, index, done, failed = msg
            slot = self.progress.inflight.get(index)
            if slot is not None and w.shard == index:
                slot[0] += done
                slot[1] += failed
        elif kind == "done":
            result = ShardResult.from_json(msg[2])
            self.progress.inflight.pop(result.index, None)
            self.done[result.index] = result
            self.progress.completed += result.completed
            self.progress.failed += result.failed
            self.log(
                f"shard {result.index} published by worker {wid}: {result.completed}"
                f" predictions, {result.failed} failed"
            )
            assign(w)
        elif kind == "fatal":
            _, _, message, hint = msg
            self.log(f"worker {wid}: {message}")
            raise Stop(JobState.FAILED, message, hint)

    def _housekeeping(
        self,
        workers: dict[int, _Worker],
        pending: list[int],
        attempts: dict[int, int],
        start_worker: Any,
        budget: Budget,
    ) -> None:
        if self.stopping:
            raise Stop(None)
        if self.jd.cancel_requested():
            self.log("cancel requested")
            raise Stop(JobState.CANCELLED)
        for w in list(workers.values()):
            code = w.process.exitcode
            if code is None or (w.released and code == 0):
                continue
            del workers[w.wid]
            with contextlib.suppress(OSError):
                w.messages.close()
            if w.shard is None:
                if not w.released:  # died while loading or idle
                    raise Stop(
                        JobState.FAILED,
                        f"worker {w.wid} {_exit_text(code)} before it took a shard",
                        f"see the logs in {self.jd.logs}",
                    )
                continue
            shard = w.shard
            self.progress.inflight.pop(shard, None)
            attempts[shard] = attempts.get(shard, 0) + 1
            where = self._describe_shard(shard)
            self.log(f"worker {w.wid} {_exit_text(code)} on shard {shard} ({where})")
            if attempts[shard] >= MAX_SHARD_ATTEMPTS:
                raise Stop(
                    JobState.FAILED,
                    f"a worker {_exit_text(code)} on shard {shard} ({where})"
                    f" {attempts[shard]} times",
                    "a model that runs out of memory is killed by SIGKILL: lower"
                    " `resources.batchSize` or `maxWorkerCount`; logs are in " + str(self.jd.logs),
                )
            pending.insert(0, shard)
            start_worker()
        self._check_budget(budget)
        self._write_progress()

    def _describe_shard(self, index: int) -> str:
        assert self.plan is not None
        s = self.plan.shards[index]
        if s.lines is None:
            return s.uri
        unit = "rows" if s.uri.startswith("bq://") else "lines"
        return f"{s.uri} {unit} {s.first}-{s.first + max(s.lines - 1, 0)}"

    def _stop_workers(self, workers: dict[int, _Worker]) -> None:
        for w in workers.values():
            with contextlib.suppress(OSError):
                w.conn.close()
                w.messages.close()
            if w.process.is_alive():
                w.process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for w in workers.values():
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()

    # --- records --------------------------------------------------------------------

    _lock_fd: int | None = None

    def _counts(self) -> dict[str, Any]:
        completed, failed = self.progress.totals()
        plan = self.plan
        return {
            "completedCount": completed,
            "failedCount": failed,
            "totalCount": plan.total if plan else None,
            "shardsDone": len(self.done),
            "shardsTotal": len(plan.shards) if plan else None,
            "outputLocation": self.job.output if self.job else None,
        }

    def _write_progress(self, *, durable: bool = False) -> None:
        now = time.monotonic()
        if not durable and now - self._last_status < 0.5:
            return
        self._last_status = now
        self.jd.update_status(durable=durable, **self._counts())

    def _manifest(self, state: JobState) -> dict[str, Any]:
        assert self.plan is not None and self.job is not None
        files = []
        for index in sorted(self.done):
            r = self.done[index]
            files.extend([r.results.__dict__, r.errors.__dict__])
        completed, failed = self.progress.totals()
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

    def _write_manifest(self, state: JobState) -> None:
        if self.store is None or self.plan is None or self.job is None:
            return
        data = encode_json(self._manifest(state))
        staged = self.store.staging_file(MANIFEST_NAME)
        with open(staged, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.store.publish(staged, MANIFEST_NAME)

    def _finish(
        self, state: JobState, message: str | None = None, hint: str | None = None
    ) -> JobState:
        self.progress.inflight.clear()
        if self.owns_output and self.store is not None:  # never touch a folder we refused
            try:
                self._write_manifest(state)
            except (OSError, BatchspecError) as exc:
                self.log(f"could not write the manifest: {exc}")
            self.store.clear_staging()
        elif self.store is not None:
            self.store.drop_empty_staging()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        error = {"message": message, "hint": hint} if message else None
        self.jd.update_status(
            state=state.value,
            endTime=now_iso(),
            error=error,
            peakWorkerRssKb=usage,
            supervisorRssKb=own,
            **self._counts(),
        )
        self.log(f"finished: {state.value}" + (f": {message}" if message else ""))
        return state


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def supervise(
    job_dir: Path | JobDir,
    *,
    max_workers: int | None = None,
    supervisor_cls: type[Supervisor] = Supervisor,
) -> JobState | None:
    """Run or resume the job in `job_dir` in this process (workers are child
    processes). Returns the terminal state, or None when another supervisor
    holds the job or this one was stopped by a signal.

    `supervisor_cls` lets another executor reuse the planning, resume, budget
    and manifest machinery with its own pool (the Ray entrypoint does), and
    `job_dir` may be a `JobDir` subclass that also reports elsewhere."""
    jd = job_dir if isinstance(job_dir, JobDir) else JobDir(job_dir)
    with jd.lock(wait=5.0) as fd:
        if fd is None:
            return None
        sup = supervisor_cls(jd, max_workers=max_workers)
        sup._lock_fd = fd
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda *_: setattr(sup, "stopping", True))
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
