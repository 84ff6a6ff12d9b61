"""The driver: the local engine's supervisor, with a pool of Ray actors.

`python -m batchspec.raycluster` is the entrypoint of every Ray job batchspec
submits. It reads the job record from $BATCHSPEC_RAY_JOB, opens (or adopts)
the job's folder on the head node the way the local backend does, and runs
the engine's `Supervisor` on it. Everything but the pool is the engine's own:
the shard plan (saved once, reused on resume), the output checks, the error
budget, shard records, the manifest and the terminal state. The pool here is
Ray actors instead of worker processes:

* at most `maxWorkerCount` actors, sized by `ray.cpusPerActor` and
  `resources.accelerator`, always leaving a CPU free (see `sizing`);
* one model load per actor, one shard at a time per actor;
* the actor publishes the shard's files; the driver records the shard, so
  shards finished by an actor that is lost later are never redone;
* a shard whose actor died, or that failed with an unexpected error, is
  retried on a new actor (at most three attempts); a broken model fails the
  job at once, as it does locally;
* SIGTERM (Ray's `stop_job`) cancels: the actors are killed, the manifest
  says CANCELLED.

Everything the client needs to know is printed as status lines (see
`protocol`), and the exit code carries the final state.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from batchspec.backends.local import LocalBackend
from batchspec.engine.budget import Budget
from batchspec.engine.job import EngineJob
from batchspec.engine.jobdir import JobDir, now_iso
from batchspec.engine.output import OutputStore
from batchspec.engine.plan import ShardPlan
from batchspec.engine.runners.base import RunnerContext
from batchspec.engine.shard import ShardJob, ShardResult
from batchspec.engine.supervisor import MAX_SHARD_ATTEMPTS, TICK, Stop, Supervisor, supervise
from batchspec.errors import BatchspecError, EngineError
from batchspec.model.enums import JobState
from batchspec.model.spec import HttpRunner, RaySettings
from batchspec.raycluster.actor import ActorConfig, ShardActor
from batchspec.raycluster.protocol import (
    EXIT_CODES,
    EXIT_NOT_RUN,
    HOME_ENV,
    JOB_ENV,
    status_line,
)
from batchspec.raycluster.sizing import PoolSize, size_pool

ECHO_EVERY = 2.0  # seconds between progress lines in the job's log
PLACEMENT_NOTE_AFTER = 30.0  # seconds without a loaded actor before saying why
INSTALL_HINT = "pip install 'batchspec[ray]'"
RECORD_KEYS = frozenset({"id", "name", "fingerprint", "body", "specDir", "createTime", "output"})


def default_cluster_home() -> Path:
    """Where job folders live on the head node: $BATCHSPEC_RAY_HOME or ~/.batchspec/ray."""
    return Path(os.environ.get(HOME_ENV) or "~/.batchspec/ray").expanduser()


class EchoJobDir(JobDir):
    """A job folder that also prints its status record into the job's log:
    the one channel that reaches a client wherever it is (see `protocol`)."""

    def __init__(self, path: Path, *, out: TextIO | None = None) -> None:
        super().__init__(path)
        self._out = out
        self._last_echo = 0.0
        self._last_state: Any = None

    def write_status(self, status: dict[str, Any], *, durable: bool = True) -> None:
        """Write the record; print it on a change of state, else every few seconds."""
        super().write_status(status, durable=durable)
        state = status.get("state")
        if durable or state != self._last_state or time.monotonic() - self._last_echo >= ECHO_EVERY:
            self.echo(status)

    def echo(self, status: dict[str, Any]) -> None:
        """Print one status line now."""
        self._last_echo = time.monotonic()
        self._last_state = status.get("state")
        print(status_line(status), file=self._out or sys.stdout, flush=True)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise EngineError(
            "the Ray entrypoint needs ray, which is not installed on the cluster",
            hint=INSTALL_HINT,
        ) from exc
    return ray


def _connect(ray: Any) -> None:
    """Join the cluster this driver was started on (never start a new one)."""
    if ray.is_initialized():
        return
    ray.init(
        address=os.environ.get("RAY_ADDRESS") or "auto",
        log_to_driver=True,
        logging_level="WARNING",
    )


class RaySupervisor(Supervisor):
    """The engine's supervisor with `_run_pool` over Ray actors."""

    def log(self, message: str) -> None:
        """The event log, and the job's log (what `batchspec logs` shows)."""
        super().log(message)
        print(f"{now_iso()} {message}", flush=True)

    def _finish(
        self, state: JobState, message: str | None = None, hint: str | None = None
    ) -> JobState:
        final = super()._finish(state, message, hint)
        files: list[str] = []
        if self.owns_output and self.store is not None:
            for index in sorted(self.done):
                r = self.done[index]
                files.extend([self.store.url(r.results.name), self.store.url(r.errors.name)])
        self.jd.update_status(outputFiles=files)  # the last status line: where results are
        return final

    def _run_pool(
        self, job: EngineJob, store: OutputStore, plan: ShardPlan, todo: list[int], budget: Budget
    ) -> None:
        ray = _import_ray()
        _connect(ray)
        self._take_back_sigterm()
        size = self._size(ray, job, len(todo))
        if size.note:
            self.log(size.note)
        pool = _ActorPool(
            self, ray, job, shard_job=self._shard_job(job, store, plan), plan=plan, size=size
        )
        try:
            pool.run(todo, budget)
        finally:
            pool.shutdown()

    def _take_back_sigterm(self) -> None:
        """`ray.init` makes SIGTERM exit the process on the spot (and Ray's core
        logs a stack for it); Ray's `stop_job` sends SIGTERM, and it must cancel
        the job in good order instead: kill the actors, write the manifest."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))

    def _size(self, ray: Any, job: EngineJob, shards: int) -> PoolSize:
        spec = job.effective
        settings = spec.ray or RaySettings()
        resources = ray.cluster_resources()
        accelerator = spec.resources.accelerator
        limit = spec.resources.max_worker_count
        if self.max_workers is not None:
            limit = min(limit, self.max_workers)
        model = job.model
        fixed_port = isinstance(model, HttpRunner) and model.port is not None
        return size_pool(
            cluster_cpus=float(resources.get("CPU", 0.0)),
            cluster_gpus=float(resources.get("GPU", 0.0)),
            cpus_per_actor=settings.cpus_per_actor,
            gpus_per_actor=float(accelerator.count) if accelerator else 0.0,
            max_workers=limit,
            shards=shards,
            one_actor_reason=(
                f"the http runner has a fixed port ({model.port})"
                if isinstance(model, HttpRunner) and fixed_port
                else None
            ),
        )


@dataclass
class _Slot:
    wid: int
    handle: Any
    shard: int | None = None
    loaded: bool = False


class _ActorPool:
    """Hands shards to actors and reacts to what comes back."""

    def __init__(
        self,
        sup: RaySupervisor,
        ray: Any,
        job: EngineJob,
        *,
        shard_job: ShardJob,
        plan: ShardPlan,
        size: PoolSize,
    ) -> None:
        self.sup = sup
        self.ray = ray
        self.job = job
        self.shard_job = shard_job
        self.plan = plan
        self.size = size
        self.remote_cls = ray.remote(ShardActor).options(
            num_cpus=size.cpus_per_actor,
            num_gpus=size.gpus_per_actor,
            max_restarts=0,
            max_task_retries=0,
        )
        self.slots: dict[int, _Slot] = {}
        self.refs: dict[Any, int] = {}
        self.pending: deque[int] = deque()
        self.attempts: dict[int, int] = {}
        self.load_losses = 0
        self.next_wid = 0
        self.started = time.monotonic()
        self.placement_noted = False
        self.any_loaded = False

    # --- actors -------------------------------------------------------------------

    def start_actor(self) -> None:
        """Start one actor and ask it to load the model."""
        wid = self.next_wid
        self.next_wid += 1
        spec = self.job.effective
        cfg = ActorConfig(
            job=self.shard_job,
            shards=self.plan.shards,
            model=self.job.model,
            runner=RunnerContext(
                spec_dir=self.job.spec_dir,
                job_name=self.job.name,
                batch_size=spec.resources.batch_size,
                worker=wid,
                log_dir=self.sup.jd.logs,
                parameters=spec.model_parameters,
            ),
        )
        handle = self.remote_cls.remote(cfg)
        self.slots[wid] = _Slot(wid, handle)
        self.refs[handle.load.remote()] = wid

    def release(self, slot: _Slot) -> None:
        """No shard left for this actor: let it close its model and exit, which
        frees its CPUs for the others (Ray ends an actor once its last handle
        is gone and its queued calls are done)."""
        del self.slots[slot.wid]
        slot.handle.close.remote()

    def kill(self, slot: _Slot) -> None:
        """Kill an actor now (a model server it started dies with it)."""
        self.slots.pop(slot.wid, None)
        try:
            self.ray.kill(slot.handle, no_restart=True)
        except Exception as exc:  # already gone
            self.sup.log(f"actor {slot.wid}: kill: {type(exc).__name__}")

    def shutdown(self) -> None:
        """Kill whatever actors are left (cancel, failure, or the end)."""
        for slot in list(self.slots.values()):
            self.kill(slot)
        self.refs.clear()

    # --- the loop --------------------------------------------------------------------

    def run(self, todo: list[int], budget: Budget) -> None:
        """Run every shard in `todo`, or raise `Stop`."""
        self.pending.extend(todo)
        self.sup.log(
            f"starting {self.size.actors} actor(s) of {self.size.cpus_per_actor:g} CPU"
            + (f" and {self.size.gpus_per_actor:g} GPU" if self.size.gpus_per_actor else "")
            + f" for {len(todo)} shard(s)"
        )
        for _ in range(self.size.actors):
            self.start_actor()
        while self.pending or any(s.shard is not None for s in self.slots.values()):
            if not self.slots:  # every actor was lost and none could be replaced
                self.start_actor()
            if not self.refs:
                time.sleep(TICK)
                ready = []
            else:
                ready, _ = self.ray.wait(list(self.refs), num_returns=1, timeout=TICK)
            for ref in ready:
                self.handle(ref)
            self.housekeeping(budget)

    def handle(self, ref: Any) -> None:
        """React to one finished call (load or run)."""
        wid = self.refs.pop(ref)
        slot = self.slots.get(wid)
        if slot is None:
            return
        try:
            outcome = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            self.lost(slot, f"died ({_first_line(exc)})")
            return
        kind = outcome[0]
        if kind == "ready":
            slot.loaded = self.any_loaded = True
            self.sup.log(f"actor {wid} ({outcome[1]}) loaded the model")
            self.assign(slot)
        elif kind == "done":
            self.published(slot, outcome[1])
            self.assign(slot)
        elif kind == "fatal":
            _, message, hint = outcome
            self.sup.log(f"actor {wid}: {message}")
            raise Stop(JobState.FAILED, message, hint)
        else:
            self.lost(slot, f"failed: {outcome[1]}")

    def assign(self, slot: _Slot) -> None:
        """Give the actor the next shard, or let it go."""
        if not self.pending:
            slot.shard = None
            self.release(slot)
            return
        shard = self.pending.popleft()
        slot.shard = shard
        self.sup.progress.inflight[shard] = [0, 0]
        self.refs[slot.handle.run.remote(shard)] = slot.wid

    def published(self, slot: _Slot, record: dict[str, Any]) -> None:
        """Record a shard the actor published (its files are in place)."""
        result = ShardResult.from_json(record)
        self.sup.jd.write_shard(record)
        self.sup.progress.inflight.pop(result.index, None)
        self.sup.done[result.index] = result
        self.sup.progress.completed += result.completed
        self.sup.progress.failed += result.failed
        slot.shard = None
        self.sup.log(
            f"shard {result.index} published by actor {slot.wid}: {result.completed}"
            f" predictions, {result.failed} failed"
        )

    def lost(self, slot: _Slot, why: str) -> None:
        """An actor died or a shard failed unexpectedly: retry on a new actor."""
        shard = slot.shard
        self.kill(slot)
        if shard is None:
            if not slot.loaded:
                self.load_losses += 1
                self.sup.log(f"actor {slot.wid} {why} while loading the model")
                if self.load_losses >= MAX_SHARD_ATTEMPTS:
                    raise Stop(
                        JobState.FAILED,
                        f"actors died while loading the model {self.load_losses} times;"
                        f" the last {why}",
                        "see the job's log (`batchspec logs`); a model too big for an actor's"
                        " memory is killed: give actors more room or use a smaller model",
                    )
            if self.pending:
                self.start_actor()
            return
        self.sup.progress.inflight.pop(shard, None)
        self.attempts[shard] = self.attempts.get(shard, 0) + 1
        where = self.sup._describe_shard(shard)
        tries = self.attempts[shard]
        if tries >= MAX_SHARD_ATTEMPTS:
            self.sup.log(f"actor {slot.wid} {why} on shard {shard} ({where}); giving up")
            raise Stop(
                JobState.FAILED,
                f"shard {shard} ({where}) failed {tries} times; the last actor {why}",
                "see the job's log (`batchspec logs`); an actor killed for memory shows as"
                " died: lower `resources.batchSize` or raise `ray.cpusPerActor`",
            )
        self.sup.log(
            f"actor {slot.wid} {why} on shard {shard} ({where}); retrying it on a new actor"
            f" (attempt {tries + 1} of {MAX_SHARD_ATTEMPTS})"
        )
        self.pending.appendleft(shard)
        self.start_actor()

    def housekeeping(self, budget: Budget) -> None:
        """Cancellation, the error budget, progress, and a word on slow placement."""
        sup = self.sup
        if sup.stopping and not sup.jd.cancel_requested():
            sup.jd.request_cancel()  # SIGTERM is how Ray's stop_job reaches us
        if sup.jd.cancel_requested():
            sup.log("cancel requested")
            raise Stop(JobState.CANCELLED)
        sup._check_budget(budget)
        sup._write_progress()
        if (
            not self.placement_noted
            and not self.any_loaded
            and time.monotonic() - self.started > PLACEMENT_NOTE_AFTER
        ):
            self.placement_noted = True
            sup.log(
                f"no actor has loaded the model after {PLACEMENT_NOTE_AFTER:.0f}s; the cluster"
                f" may have no room for an actor of {self.size.cpus_per_actor:g} CPU right now"
                " (other jobs hold its resources), or loading is slow"
            )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# --- the entrypoint --------------------------------------------------------------------


def _fail_early(message: str, hint: str | None) -> int:
    """Report a job that could not even be opened (the status line says why)."""
    print(f"error: {message}" + (f"\n  hint: {hint}" if hint else ""), file=sys.stderr)
    status = {
        "state": JobState.FAILED.value,
        "endTime": now_iso(),
        "error": {"message": message, "hint": hint},
    }
    print(status_line(status), flush=True)
    return EXIT_CODES[JobState.FAILED]


def main(argv: list[str] | None = None) -> int:
    """`python -m batchspec.raycluster [--home DIR] [--rerun]`; the job from $BATCHSPEC_RAY_JOB."""
    parser = argparse.ArgumentParser(
        prog="python -m batchspec.raycluster",
        description="Run one batchspec job on the Ray cluster this process is started on"
        " (the entrypoint of the jobs RayBackend submits).",
    )
    parser.add_argument("--home", help="job folders on the head node (default ~/.batchspec/ray)")
    parser.add_argument("--rerun", action="store_true", help="start over a finished job")
    args = parser.parse_args(argv)
    raw = os.environ.get(JOB_ENV)
    if not raw:
        print(f"error: ${JOB_ENV} is not set; RayBackend.submit sets it", file=sys.stderr)
        return EXIT_NOT_RUN
    try:
        record = json.loads(raw)
        missing = sorted(RECORD_KEYS - set(record)) if isinstance(record, dict) else ["all"]
        if missing:
            return _fail_early(
                f"cannot open the job on the cluster: ${JOB_ENV} is not a job record (no"
                f" {', '.join(missing)})",
                "submit jobs with RayBackend.submit (`batchspec run --target ray`)",
            )
        home = Path(args.home).expanduser() if args.home else default_cluster_home()
        path = LocalBackend(home).open_record(record, rerun=args.rerun)
    except BatchspecError as exc:
        return _fail_early(exc.message, exc.hint)
    except (ValueError, KeyError, OSError) as exc:
        return _fail_early(f"cannot open the job on the cluster: {type(exc).__name__}: {exc}", None)
    jd = EchoJobDir(path)
    print(f"{now_iso()} job folder on the cluster: {path}", flush=True)
    jd.echo(jd.read_status())
    state = supervise(jd, supervisor_cls=RaySupervisor)
    if state is None:
        print(f"error: another driver is running this job (job folder {path})", file=sys.stderr)
        return EXIT_NOT_RUN
    return EXIT_CODES.get(state, EXIT_CODES[JobState.FAILED])
