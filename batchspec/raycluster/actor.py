"""The actor: one model load, then one shard at a time, on request.

It runs the engine's own `process_shard`, so a shard written here is the same
file, under the same name, committed the same way (staging, then rename or
whole upload) as on the local engine. Outcomes travel back as the engine's
worker messages (`engine.messages`), never as exceptions, so the driver can
tell a broken model (`Fatal`: the job fails, as it would locally) from a
shard that failed for a reason another actor may not meet (`ShardFailed`:
retried on a new actor). An actor process that dies shows up in the driver
as Ray's actor error and is handled the same way as `ShardFailed`.

This module does not import Ray: the driver wraps the class with
`ray.remote` when it starts the pool.
"""

from __future__ import annotations

import contextlib
import os
import socket
import traceback
from dataclasses import dataclass

from batchspec.engine.messages import Fatal, Published, Ready, ShardFailed
from batchspec.engine.plan import Shard
from batchspec.engine.runners.base import Runner, RunnerContext
from batchspec.engine.runners.loader import load_runner
from batchspec.engine.shard import ShardJob, process_shard
from batchspec.errors import EngineError
from batchspec.model.spec import LocalModel

Loaded = Ready | Fatal
Outcome = Published | Fatal | ShardFailed


@dataclass(frozen=True)
class ActorConfig:
    """What every actor of a job is given once, when it starts."""

    job: ShardJob
    shards: tuple[Shard, ...]
    model: LocalModel
    runner: RunnerContext


def _ignore_progress(done: int, failed: int) -> None:
    """The driver counts whole shards; per-batch progress stays in the actor."""


class ShardActor:
    """Lives in one Ray worker process for the life of the pool."""

    def __init__(self, cfg: ActorConfig) -> None:
        self.cfg = cfg
        self.by_index = {s.index: s for s in cfg.shards}
        self.runner: Runner | None = None

    def load(self) -> Loaded:
        """Load the model: `Ready("host pid N")`, or `Fatal`."""
        try:
            self.runner = load_runner(self.cfg.model, self.cfg.runner)
        except EngineError as exc:
            return Fatal(exc.message, exc.hint)
        except Exception as exc:
            traceback.print_exc()
            return Fatal(f"loading the model failed: {type(exc).__name__}: {exc}")
        return Ready(f"{socket.gethostname()} pid {os.getpid()}")

    def run(self, index: int) -> Outcome:
        """Run shard `index` to its published files."""
        assert self.runner is not None, "load() first"
        try:
            result = process_shard(
                self.cfg.job, self.by_index[index], self.runner, _ignore_progress
            )
        except EngineError as exc:
            return Fatal(exc.message, exc.hint)
        except Exception as exc:
            traceback.print_exc()
            return ShardFailed(index, f"{type(exc).__name__}: {exc}")
        return Published(result)

    def close(self) -> None:
        """Release the runner (model servers, sessions) before the actor is killed."""
        if self.runner is not None:
            with contextlib.suppress(Exception):
                self.runner.close()
            self.runner = None
