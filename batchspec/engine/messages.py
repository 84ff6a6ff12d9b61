"""What a worker tells its pool: one small frozen value per event.

The same messages travel through a local worker's pipe and come back from a
Ray actor's calls, so both pools read them with one `match`. They are plain
picklable values; the shard plan itself never travels (workers get it once,
when they start), only shard indexes and the published shard's record.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchspec.engine.shard import ShardResult


@dataclass(frozen=True)
class Ready:
    """The model is loaded; `where` names the process (`pid N`, `host pid N`)."""

    where: str


@dataclass(frozen=True)
class Progress:
    """Instances done and failed in `shard` since the last report."""

    shard: int
    done: int
    failed: int


@dataclass(frozen=True)
class Published:
    """A shard's files are in place under their final names."""

    result: ShardResult


@dataclass(frozen=True)
class Fatal:
    """The model itself is broken (it failed to load, or broke its contract):
    the job fails, as another worker would meet the same problem."""

    message: str
    hint: str | None = None


@dataclass(frozen=True)
class ShardFailed:
    """A shard failed for a reason another worker may not meet: retry it."""

    shard: int
    message: str


WorkerMessage = Ready | Progress | Published | Fatal | ShardFailed
