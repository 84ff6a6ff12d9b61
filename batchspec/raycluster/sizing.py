"""How big the actor pool is, or why there can be none.

Each actor reserves `ray.cpusPerActor` CPUs (and `resources.accelerator.count`
GPUs) and loads the model once. The pool has at most `resources.maxWorkerCount`
actors, never more than there are shards to run, and it always leaves
`RESERVED_CPUS` of the cluster's CPUs free. An actor pool that takes every CPU
hangs whatever else the job needs to schedule: Ray Data's read tasks wait
forever for a CPU the actors never give back (ray-project/ray#44687), and so
would a model that starts Ray tasks of its own. A pool that cannot leave that
room is refused with a message that says what to change; a pool that merely
does not fit at full size is shrunk, and the job's log says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from batchspec.errors import EngineError

RESERVED_CPUS = 1.0
_EPS = 1e-9


class ClusterCapacityError(EngineError):
    """The cluster cannot hold even one actor of the requested size."""


@dataclass(frozen=True)
class PoolSize:
    """The pool to start and, when it was shrunk to fit, why."""

    actors: int
    cpus_per_actor: float
    gpus_per_actor: float
    note: str | None = None


def size_pool(
    *,
    cluster_cpus: float,
    cluster_gpus: float,
    cpus_per_actor: float,
    gpus_per_actor: float,
    max_workers: int,
    shards: int,
    one_actor_reason: str | None = None,
) -> PoolSize:
    """Actors to start for `shards` shards on a cluster of this size.

    `one_actor_reason`, when given, caps the pool at one actor (an http
    runner with a fixed port). Raises `ClusterCapacityError` when not one
    actor fits beside the CPUs reserved for reading."""
    usable = cluster_cpus - RESERVED_CPUS
    if cpus_per_actor > usable + _EPS:
        raise ClusterCapacityError(
            f"an actor pool would take every CPU of the cluster: it has {cluster_cpus:g}"
            f" CPU(s), one actor needs {cpus_per_actor:g} (ray.cpusPerActor), and"
            f" {RESERVED_CPUS:g} must stay free for the tasks that read data (actors holding"
            " every CPU hang them: ray-project/ray#44687)",
            hint="lower `ray.cpusPerActor` (a fraction such as 0.5 shares a CPU) or give the"
            " cluster more CPUs",
        )
    fit = math.floor(usable / cpus_per_actor + _EPS)
    limits = [fit]
    if gpus_per_actor > 0:
        if cluster_gpus + _EPS < gpus_per_actor:
            raise ClusterCapacityError(
                f"each actor needs {gpus_per_actor:g} GPU(s) (resources.accelerator.count)"
                f" and the cluster has {cluster_gpus:g}",
                hint="remove `resources.accelerator` to run on CPUs, or add GPU nodes",
            )
        limits.append(math.floor(cluster_gpus / gpus_per_actor + _EPS))
    wanted = min(max_workers, max(shards, 1))
    if one_actor_reason:
        wanted = 1
    actors = max(1, min(wanted, *limits))
    note = None
    if actors < wanted:
        note = (
            f"{wanted} actor(s) wanted (maxWorkerCount {max_workers}, {shards} shard(s));"
            f" the cluster has {cluster_cpus:g} CPU(s)"
            + (f" and {cluster_gpus:g} GPU(s)" if gpus_per_actor > 0 else "")
            + f" and {RESERVED_CPUS:g} CPU stays free for reading, so the pool has"
            f" {actors} actor(s) of {cpus_per_actor:g} CPU"
        )
    elif one_actor_reason:
        note = f"one actor: {one_actor_reason}"
    return PoolSize(actors, cpus_per_actor, gpus_per_actor, note)
