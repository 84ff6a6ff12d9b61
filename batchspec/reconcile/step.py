"""One reconcile step: observe, sync, drift, plan.

`apply`, every controller pass, `drift` and the Pulumi provider all start
the same way: list what the backends hold (every location their specs and
records name, a list per page), fold it into state, notice what changed
outside batchspec, and plan the declared jobs against it. This is that
sequence, written once; each caller says what it needs of it:

* `apply` and the controller: all of it (`Step()`);
* `drift`: observe and compare only, writing nothing, no plan
  (`Step(write=False, record_drift=False, plan=None)`), since it is read-only
  and records its findings itself;
* the Pulumi provider: its one job (`Step(names={name}, record_drift=False)`):
  the run of one spec refreshes that spec's record and plans that spec, and
  leaves drift of the others to `batchspec drift`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from batchspec.backends.registry import BackendProvider
from batchspec.model.jobs import CompiledJob
from batchspec.plan.actions import Plan
from batchspec.plan.builder import PlanOptions, plan_against
from batchspec.plan.desired import Desired
from batchspec.plan.observed import Observation
from batchspec.reconcile.clock import Clock
from batchspec.reconcile.findings import spec_changes
from batchspec.reconcile.inputs import watch_inputs
from batchspec.reconcile.observe import OBSERVE_RETRY, observe, scope_of
from batchspec.reconcile.sync import SyncResult, sync
from batchspec.retry import RetryPolicy
from batchspec.state.records import DriftFinding, JobRecord, utc_now
from batchspec.state.store import StateStore


@dataclass(frozen=True)
class Step:
    """What a caller needs of the step (see the module docstring)."""

    write: bool = True  # record what the backends report in state
    names: Collection[str] | None = None  # sync only these spec names (None: every job)
    record_drift: bool = True  # write the findings to the drift table
    plan: PlanOptions | None = field(default_factory=PlanOptions)  # None: no plan
    retry: RetryPolicy = OBSERVE_RETRY
    backends: Collection[str] | None = None  # list only these backends (drift --target)


@dataclass
class StepResult:
    """What the step saw, changed and planned."""

    observation: Observation
    synced: SyncResult
    findings: list[DriftFinding]
    plan: Plan | None


def reconcile_step(
    store: StateStore,
    provider: BackendProvider,
    desired: Desired | None,
    step: Step | None = None,
    *,
    actor: str,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    now: Callable[[], datetime] | None = None,
) -> StepResult:
    """Observe every location `desired` and state name, sync, find drift, plan
    (as of `now()` when given: the controller plans on its own clock)."""
    step = step or Step()
    desired = desired if desired is not None else Desired()
    wanted = scope_of(store, desired, names=step.names)
    if step.backends is not None:
        wanted = {name: places for name, places in wanted.items() if name in step.backends}
    observation = observe(wanted, provider, policy=step.retry, clock=clock, rng=rng)
    synced = sync(store, observation, provider, actor=actor, write=step.write, names=step.names)
    findings = synced.findings + spec_changes(_current(store, step.names), desired)
    if findings and step.record_drift:
        store.record_drift(findings)
    plan = None
    if step.plan is not None:
        options = replace(step.plan, now=now()) if now is not None else step.plan
        if step.write and any(j.effective.trigger for j in desired.jobs.values()):
            at = options.now or utc_now()
            options = replace(options, inputs=watch_inputs(store, _named(desired, step), at))
        plan = plan_against(desired, store, observation, options)
    return StepResult(observation, synced, findings, plan)


def _named(desired: Desired, step: Step) -> list[CompiledJob]:
    return [j for n, j in desired.jobs.items() if step.names is None or n in step.names]


def _current(store: StateStore, names: Collection[str] | None) -> list[JobRecord]:
    jobs = store.current_jobs()
    return [r for n, r in jobs.items() if names is None or n in names]
