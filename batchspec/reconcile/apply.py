"""`apply`: carry out a plan, made now from specs or saved earlier.

Made now: observe the backends the specs and state involve (one paged list
each), record what they report, plan against that, execute the changes.
Saved: the plan was checked against the state's hash when loaded; observe
only to find jobs to adopt, then execute exactly its actions.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

from batchspec.backends.registry import BackendProvider
from batchspec.plan.actions import Plan
from batchspec.plan.builder import PlanOptions, build_plan
from batchspec.plan.desired import Desired
from batchspec.plan.observed import Observation
from batchspec.reconcile.clock import Clock
from batchspec.reconcile.drift import spec_changes
from batchspec.reconcile.executor import SUBMIT_RETRY, ApplyReport, Executor, Outcome
from batchspec.reconcile.observe import observe
from batchspec.reconcile.sync import sync
from batchspec.retry import RetryPolicy
from batchspec.state.store import StateStore


@dataclass
class ApplyResult:
    """The plan that was applied and what happened."""

    plan: Plan
    report: ApplyReport
    observation: Observation

    @property
    def ok(self) -> bool:
        """True when every action succeeded."""
        return not self.report.failed


@dataclass
class ApplyContext:
    """Everything apply needs besides the plan."""

    store: StateStore
    provider: BackendProvider
    actor: str
    clock: Clock | None = None
    rng: random.Random | None = None
    retry: RetryPolicy = SUBMIT_RETRY
    guard: Callable[[], None] | None = None
    stop: threading.Event | None = None
    report: Callable[[Outcome], None] | None = None
    log: Callable[[str], None] | None = None
    allow_retired: bool = False  # submit to retired services (ML Engine) anyway

    def executor(self) -> Executor:
        """An executor bound to this context."""
        return Executor(
            self.store,
            self.provider,
            actor=self.actor,
            clock=self.clock,
            rng=self.rng,
            retry=self.retry,
            guard=self.guard,
            stop=self.stop,
            report=self.report,
            log=self.log,
        )


def plan_for_apply(
    ctx: ApplyContext, desired: Desired, *, replace: Collection[str] = ()
) -> tuple[Plan, Observation]:
    """Observe, record the observation, and plan against it."""
    backends = ctx.store.tracked_backends() | {j.target.value for j in desired.jobs.values()}
    observation = observe(backends, ctx.provider, clock=ctx.clock, rng=ctx.rng)
    synced = sync(ctx.store, observation, ctx.provider, actor=ctx.actor)
    findings = synced.findings + spec_changes(ctx.store.current_jobs().values(), desired)
    if findings:
        ctx.store.record_drift(findings)
    plan = build_plan(
        desired,
        ctx.store.snapshot(),
        observation,
        revisions=ctx.store.revisions,
        options=PlanOptions(replace=frozenset(replace), allow_retired=ctx.allow_retired),
        state_path=str(ctx.store.path) if ctx.store.path else None,
    )
    return plan, observation


def apply_desired(
    ctx: ApplyContext, desired: Desired, *, replace: Collection[str] = ()
) -> ApplyResult:
    """Plan from the specs and apply the changes (nothing runs when specs have errors)."""
    plan, observation = plan_for_apply(ctx, desired, replace=replace)
    if not desired.ok:
        return ApplyResult(plan, ApplyReport(), observation)
    report = ctx.executor().execute(plan.changes, observation)
    return ApplyResult(plan, report, observation)


def apply_saved(ctx: ApplyContext, plan: Plan) -> ApplyResult:
    """Execute a saved plan (already checked against the state's hash)."""
    backends = {(a.previous.backend if a.previous else a.target) for a in plan.changes} - {None}
    observation = observe(
        {b for b in backends if b is not None}, ctx.provider, clock=ctx.clock, rng=ctx.rng
    )
    report = ctx.executor().execute(plan.changes, observation)
    return ApplyResult(plan, report, observation)
