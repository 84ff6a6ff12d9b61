"""`apply`: carry out a plan, made now from specs or saved earlier.

Made now: the reconcile step (observe every backend and location the specs
and state involve, one paged list each; record what they report; plan
against that), then execute the changes. Saved: the plan was checked against
the state's hash when loaded; observe only where its actions look for jobs
to adopt, then execute exactly its actions.

Either way each location is listed once per run and new jobs are then
created without a look-up of their own (see `Executor`).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

from batchspec.backends.registry import BackendProvider
from batchspec.errors import BatchspecError
from batchspec.plan.actions import Plan
from batchspec.plan.builder import PlanOptions
from batchspec.plan.desired import Desired
from batchspec.plan.observed import Observation
from batchspec.reconcile.clock import Clock
from batchspec.reconcile.executor import (
    LISTING_MAX_AGE,
    SUBMIT_RETRY,
    ApplyReport,
    Executor,
    Outcome,
)
from batchspec.reconcile.models import ModelOutcome, model_registry, observe_models, upload_models
from batchspec.reconcile.observe import observe, scope_of_actions
from batchspec.reconcile.step import Step, reconcile_step
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
        return not self.report.any_failed


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
    listing_max_age: float = LISTING_MAX_AGE

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
            listing_max_age=self.listing_max_age,
        )


def plan_for_apply(
    ctx: ApplyContext,
    desired: Desired,
    *,
    replace: Collection[str] = (),
    run_now: Collection[str] = (),
) -> tuple[Plan, Observation]:
    """Observe (the declared models' versions too), record the observation,
    and plan against it (`run_now`: recurring specs to run once now, besides
    their schedule)."""
    options = PlanOptions(
        replace=frozenset(replace),
        run_now=frozenset(run_now),
        allow_retired=ctx.allow_retired,
    )
    if desired.models:
        _observe_models(ctx, desired)
    step = reconcile_step(
        ctx.store,
        ctx.provider,
        desired,
        Step(plan=options),
        actor=ctx.actor,
        clock=ctx.clock,
        rng=ctx.rng,
    )
    assert step.plan is not None
    return step.plan, step.observation


def apply_desired(
    ctx: ApplyContext,
    desired: Desired,
    *,
    replace: Collection[str] = (),
    run_now: Collection[str] = (),
) -> ApplyResult:
    """Plan from the specs and apply the changes (nothing runs when specs have errors)."""
    plan, observation = plan_for_apply(ctx, desired, replace=replace, run_now=run_now)
    if not desired.ok:
        return ApplyResult(plan, ApplyReport(), observation)
    return execute_plan(ctx, plan, observation)


def apply_saved(ctx: ApplyContext, plan: Plan) -> ApplyResult:
    """Execute a saved plan (already checked against the state's hash)."""
    observation = observe(
        scope_of_actions(plan.changes), ctx.provider, clock=ctx.clock, rng=ctx.rng
    )
    return execute_plan(ctx, plan, observation)


def execute_plan(ctx: ApplyContext, plan: Plan, observation: Observation) -> ApplyResult:
    """Upload the models first; then the jobs, except those whose model
    failed to upload (each such job fails, saying why)."""
    models = _upload_models(ctx, plan)
    failed = {m.name: m.message for m in models if not m.ok}
    blocked = [a for a in plan.changes if a.job is not None and a.job.model_ref in failed]
    runnable = [a for a in plan.changes if a not in blocked]
    report = ctx.executor().execute(runnable, observation)
    for action in blocked:
        assert action.job is not None and action.job.model_ref is not None
        ref = action.job.model_ref
        outcome = Outcome(action, False, f"not submitted: model {ref}: {failed[ref]}")
        report.outcomes.append(outcome)
        if ctx.report is not None:
            ctx.report(outcome)
    report.models = models
    return ApplyResult(plan, report, observation)


def _observe_models(ctx: ApplyContext, desired: Desired) -> None:
    """Record uploaded versions deleted outside batchspec (the plan uploads them again)."""
    api = model_registry(ctx.provider)
    if api is None:
        return
    try:
        observe_models(ctx.store, api, desired.models, actor=ctx.actor)
    except BatchspecError as exc:
        if ctx.log is not None:
            ctx.log(f"warning: cannot look up the models on Vertex AI: {exc}")


def _upload_models(ctx: ApplyContext, plan: Plan) -> list[ModelOutcome]:
    changes = [m for m in plan.models if m.changes]
    if not changes:
        return []
    api = model_registry(ctx.provider)
    if api is None:
        reason = "no Vertex AI backend to upload to"
        return [ModelOutcome(m.name, False, reason) for m in changes]
    return upload_models(ctx.store, api, changes, actor=ctx.actor, log=ctx.log)
