"""The Ray pool: the engine's `WorkerPool` over Ray actors.

* at most `maxWorkerCount` actors, sized by `ray.cpusPerActor` and
  `resources.accelerator`, always leaving a CPU free (see `sizing`);
* one model load per actor, one shard at a time per actor;
* the actor publishes the shard's files; the driver records the shard (an
  actor may run on another node than the job folder), so shards finished by
  an actor that is lost later are never redone;
* a shard whose actor died, or that failed with an unexpected error, is
  retried on a new actor (at most three attempts); a broken model fails the
  job at once, as it does locally;
* SIGTERM (Ray's `stop_job`) cancels: the actors are killed, the manifest
  says CANCELLED.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from batchspec.engine.messages import Fatal, Progress, Published, Ready, ShardFailed
from batchspec.engine.pool import (
    MAX_SHARD_ATTEMPTS,
    TICK,
    PoolHost,
    PoolWork,
    ShardQueue,
    Stop,
    fatal_stop,
)
from batchspec.errors import EngineError
from batchspec.model.enums import JobState
from batchspec.model.spec import HttpRunner, RaySettings
from batchspec.raycluster.actor import ActorConfig, ShardActor
from batchspec.raycluster.protocol import import_ray
from batchspec.raycluster.sizing import PoolSize, size_pool

PLACEMENT_NOTE_AFTER = 30.0  # seconds without a loaded actor before saying why


def _connect(ray: Any) -> None:
    """Join the cluster this driver was started on (never start a new one)."""
    if ray.is_initialized():
        return
    ray.init(
        address=os.environ.get("RAY_ADDRESS") or "auto",
        log_to_driver=True,
        logging_level="WARNING",
    )


def pool_size(ray: Any, work: PoolWork) -> PoolSize:
    """How many actors of what size this job gets on this cluster."""
    spec = work.job.effective
    settings = spec.ray or RaySettings()
    resources = ray.cluster_resources()
    accelerator = spec.resources.accelerator
    model = work.job.model
    fixed_port = isinstance(model, HttpRunner) and model.port is not None
    return size_pool(
        cluster_cpus=float(resources.get("CPU", 0.0)),
        cluster_gpus=float(resources.get("GPU", 0.0)),
        cpus_per_actor=settings.cpus_per_actor,
        gpus_per_actor=float(accelerator.count) if accelerator else 0.0,
        max_workers=work.limit,
        shards=len(work.todo),
        one_actor_reason=(
            f"the http runner has a fixed port ({model.port})"
            if isinstance(model, HttpRunner) and fixed_port
            else None
        ),
    )


class ActorPool:
    """Runs a job's shards on Ray actors of the cluster this process joined."""

    def run(self, work: PoolWork, host: PoolHost) -> None:
        """Run every shard of `work.todo`, or raise `Stop`."""
        ray = import_ray(
            "ray",
            EngineError,
            "the Ray entrypoint needs ray, which is not installed on the cluster",
        )
        _connect(ray)
        _take_back_sigterm(host)
        size = pool_size(ray, work)
        if size.note:
            host.log(size.note)
        run = _ActorRun(ray, work, host, size)
        try:
            run.loop()
        finally:
            run.shutdown()


def _take_back_sigterm(host: PoolHost) -> None:
    """`ray.init` makes SIGTERM exit the process on the spot (and Ray's core
    logs a stack for it); Ray's `stop_job` sends SIGTERM, and it must cancel
    the job in good order instead: kill the actors, write the manifest."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: host.signalled())


@dataclass
class _Slot:
    wid: int
    handle: Any
    shard: int | None = None
    loaded: bool = False


class _ActorRun:
    """One run of the pool: hands shards to actors and reacts to what comes back."""

    def __init__(self, ray: Any, work: PoolWork, host: PoolHost, size: PoolSize) -> None:
        self.ray = ray
        self.work = work
        self.host = host
        self.size = size
        self.remote_cls = ray.remote(ShardActor).options(
            num_cpus=size.cpus_per_actor,
            num_gpus=size.gpus_per_actor,
            max_restarts=0,
            max_task_retries=0,
        )
        self.slots: dict[int, _Slot] = {}
        self.refs: dict[Any, int] = {}
        self.queue = ShardQueue(work.todo)
        self.load_losses = 0
        self.next_wid = 0
        self.started = time.monotonic()
        self.placement_noted = False
        self.any_loaded = False

    # --- actors -------------------------------------------------------------------------

    def start_actor(self) -> None:
        """Start one actor and ask it to load the model."""
        wid = self.next_wid
        self.next_wid += 1
        cfg = ActorConfig(
            job=self.work.shard_job,
            shards=self.work.shards,
            model=self.work.job.model,
            runner=dataclasses.replace(self.work.runner, worker=wid),
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
            self.host.log(f"actor {slot.wid}: kill: {type(exc).__name__}")

    def shutdown(self) -> None:
        """Kill whatever actors are left (cancel, failure, or the end)."""
        for slot in list(self.slots.values()):
            self.kill(slot)
        self.refs.clear()

    # --- the loop -------------------------------------------------------------------------

    def loop(self) -> None:
        """Until every shard is published (or `Stop`)."""
        size = self.size
        self.host.log(
            f"starting {size.actors} actor(s) of {size.cpus_per_actor:g} CPU"
            + (f" and {size.gpus_per_actor:g} GPU" if size.gpus_per_actor else "")
            + f" for {len(self.work.todo)} shard(s)"
        )
        for _ in range(size.actors):
            self.start_actor()
        while self.queue or any(s.shard is not None for s in self.slots.values()):
            if not self.slots:  # every actor was lost and none could be replaced
                self.start_actor()
            if not self.refs:
                time.sleep(TICK)
                ready = []
            else:
                ready, _ = self.ray.wait(list(self.refs), num_returns=1, timeout=TICK)
            for ref in ready:
                self.handle(ref)
            self.host.tick()
            self._note_slow_placement()

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
        match outcome:
            case Ready(where):
                slot.loaded = self.any_loaded = True
                self.host.log(f"actor {wid} ({where}) loaded the model")
                self.assign(slot)
            case Published(result):
                self.work.job_dir.write_shard(result.to_json())
                slot.shard = None
                self.host.shard_published(result, f"actor {wid}")
                self.assign(slot)
            case Fatal() as fatal:
                raise fatal_stop(self.host, f"actor {wid}", fatal)
            case ShardFailed(_, message):
                self.lost(slot, f"failed: {message}")
            case Progress():  # actors report whole shards only
                pass

    def assign(self, slot: _Slot) -> None:
        """Give the actor the next shard, or let it go."""
        shard = self.queue.take()
        if shard is None:
            slot.shard = None
            self.release(slot)
            return
        slot.shard = shard
        self.host.shard_started(shard)
        self.refs[slot.handle.run.remote(shard)] = slot.wid

    def lost(self, slot: _Slot, why: str) -> None:
        """An actor died or a shard failed unexpectedly: retry on a new actor."""
        shard = slot.shard
        self.kill(slot)
        if shard is None:
            self._lost_idle(slot, why)
            return
        self.host.shard_abandoned(shard)
        where = self.host.describe_shard(shard)
        tries = self.queue.give_back(shard)
        if tries >= MAX_SHARD_ATTEMPTS:
            self.host.log(f"actor {slot.wid} {why} on shard {shard} ({where}); giving up")
            raise Stop(
                JobState.FAILED,
                f"shard {shard} ({where}) failed {tries} times; the last actor {why}",
                "see the job's log (`batchspec logs`); an actor killed for memory shows as"
                " died: lower `resources.batchSize` or raise `ray.cpusPerActor`",
            )
        self.host.log(
            f"actor {slot.wid} {why} on shard {shard} ({where}); retrying it on a new actor"
            f" (attempt {tries + 1} of {MAX_SHARD_ATTEMPTS})"
        )
        self.start_actor()

    def _lost_idle(self, slot: _Slot, why: str) -> None:
        """An actor without a shard died: while loading, that counts against
        the model (three such losses fail the job)."""
        if not slot.loaded:
            self.load_losses += 1
            self.host.log(f"actor {slot.wid} {why} while loading the model")
            if self.load_losses >= MAX_SHARD_ATTEMPTS:
                raise Stop(
                    JobState.FAILED,
                    f"actors died while loading the model {self.load_losses} times; the last {why}",
                    "see the job's log (`batchspec logs`); a model too big for an actor's"
                    " memory is killed: give actors more room or use a smaller model",
                )
        if self.queue:
            self.start_actor()

    def _note_slow_placement(self) -> None:
        if (
            self.placement_noted
            or self.any_loaded
            or time.monotonic() - self.started <= PLACEMENT_NOTE_AFTER
        ):
            return
        self.placement_noted = True
        self.host.log(
            f"no actor has loaded the model after {PLACEMENT_NOTE_AFTER:.0f}s; the cluster"
            f" may have no room for an actor of {self.size.cpus_per_actor:g} CPU right now"
            " (other jobs hold its resources), or loading is slow"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
