"""Desired (specs) against recorded (state) and observed (backends): actions.

Pure: reads a state snapshot and an optional observation and returns a Plan.
The same function drives `batchspec plan`, `apply` and every controller pass,
so what a pull request shows is what the controller does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from batchspec.model.enums import JobState
from batchspec.model.jobs import CompiledJob
from batchspec.model.retired import retirement
from batchspec.model.spec import Policy
from batchspec.plan import recurring
from batchspec.plan.actions import Action, ActionKind, Plan, Upcoming
from batchspec.plan.attempts import key_label, retry_not_before
from batchspec.plan.desired import Desired
from batchspec.plan.models import ModelSeen, plan_models
from batchspec.plan.observed import Observation
from batchspec.plan.recurring import InputsSeen
from batchspec.state.records import JobRecord, RevisionRecord, StateSnapshot, utc_now
from batchspec.state.store import StateStore

RevisionLoader = Callable[[Iterable[str]], Mapping[str, RevisionRecord]]


@dataclass(frozen=True)
class PlanOptions:
    """Knobs of one planning run.

    `inputs`: the input snapshots of input-triggered specs, taken by the
    reconcile step (a plan without one shows what the trigger waits for);
    `run_now`: recurring specs to run once now (`apply --now`)."""

    replace: Collection[str] = ()
    now: datetime | None = None
    inputs: Mapping[str, InputsSeen] = field(default_factory=dict)
    run_now: Collection[str] = ()
    allow_retired: bool = False  # submit to retired services anyway (--allow-retired)


def plan_against(
    desired: Desired,
    store: StateStore,
    observation: Observation | None = None,
    options: PlanOptions | None = None,
    *,
    models_seen: Mapping[str, ModelSeen] | None = None,
) -> Plan:
    """`build_plan` against what `store` recorded, read consistently (the
    snapshot, the revisions it needs, the state file's path for the plan),
    the Model documents' uploads first (`models_seen`: what a refresh found
    of their versions)."""
    plan = build_plan(
        desired,
        store.snapshot(),
        observation,
        revisions=store.revisions,
        options=options,
        state_path=str(store.path) if store.path else None,
    )
    if desired.models:
        plan.models = plan_models(desired.models, store.current_models(), models_seen)
    return plan


def _effective(record: JobRecord, observation: Observation | None) -> tuple[JobState | None, bool]:
    """The state to plan with, and whether the backend no longer has the job."""
    if observation is None or record.remote_name is None:
        return record.state, record.missing_since is not None
    if not observation.covers(record.backend, record.remote_name):
        # Not listed where the job lives: what state recorded stands.
        return record.state, record.missing_since is not None
    seen = observation.find(record.backend, record.remote_name)
    if seen is None:
        return record.state, True
    return seen.state, False


def _policy(data: Mapping[str, Any] | None) -> Policy:
    if not data:
        return Policy()
    return Policy.model_validate_json(json.dumps(dict(data)))


@dataclass(frozen=True)
class _Against:
    """What each declared job of one `build_plan` is planned against."""

    snapshot: StateSnapshot
    observation: Observation | None
    options: PlanOptions
    now: datetime


def build_plan(
    desired: Desired,
    snapshot: StateSnapshot,
    observation: Observation | None = None,
    *,
    revisions: RevisionLoader | None = None,
    options: PlanOptions | None = None,
    state_path: str | None = None,
) -> Plan:
    """Every declared job and every recorded job in scope, with its action."""
    options = options or PlanOptions()
    now = options.now or utc_now()
    actions: list[Action] = []
    upcoming: list[Upcoming] = []
    against = _Against(snapshot, observation, options, now)
    for name in sorted(desired.jobs):
        record = snapshot.current.get(name)
        job = desired.jobs[name]
        if job.effective.recurring:
            upcoming.append(recurring.upcoming(job, now))
            planned = _recurring(job, record, against)
        else:
            planned = [_declared(job, record, against)]
        actions.extend(a if options.allow_retired else _refuse_retired(a) for a in planned)
    removed = [
        record
        for name, record in sorted(snapshot.current.items())
        if name not in desired.jobs and desired.may_remove(record)
    ]
    wanted = [
        a.previous.fingerprint for a in actions if a.kind is ActionKind.REPLACE and a.previous
    ]
    wanted += [r.fingerprint for r in removed]
    schedules = [
        s
        for name, s in sorted(snapshot.schedules.items())
        if name not in desired.jobs and name not in snapshot.current and s.fingerprint
    ]
    wanted += [s.fingerprint for s in schedules if s.fingerprint]
    loaded = dict(revisions(wanted)) if revisions and wanted else {}
    actions = [_with_before(a, loaded) for a in actions]
    for record in removed:
        revision = loaded.get(record.fingerprint)
        actions.append(
            _undeclared(record, observation, _policy(revision.policy if revision else None))
        )
    for sched in schedules:
        revision = loaded.get(sched.fingerprint or "")
        if revision is not None and desired.may_remove_spec(
            sched.name, revision.target, revision.source
        ):
            why = "spec removed before its first run; its schedule is forgotten"
            actions.append(Action(ActionKind.FORGET, sched.name, why, target=revision.target))
    return Plan(
        actions=actions,
        state_hash=snapshot.hash,
        lineage=snapshot.lineage,
        serial=snapshot.serial,
        created_at=now,
        state_path=state_path,
        refreshed=observation is not None,
        diagnostics=list(desired.diagnostics),
        problems=list(desired.problems),
        unobserved=dict(observation.failed) if observation else {},
        upcoming=upcoming,
    )


def _recurring(job: CompiledJob, record: JobRecord | None, against: _Against) -> list[Action]:
    state = _effective(record, against.observation)[0] if record is not None else None
    options = against.options
    ctx = recurring.RecurringContext(
        record=record,
        state=state,
        schedule=against.snapshot.schedules.get(job.name),
        inputs=options.inputs.get(job.name),
        now=against.now,
        run_now=job.name in options.run_now or job.name in options.replace,
    )
    return recurring.plan_recurring(job, ctx)


def _refuse_retired(action: Action) -> Action:
    """A submission to a service that was shut down is planned, shown, and refused."""
    gone = retirement(action.target) if action.submits else None
    if gone is None:
        return action
    why = (
        f"not submitted: {gone.service} was shut down on {gone.shutdown.isoformat()};"
        f" {gone.way_forward}, or pass --allow-retired"
    )
    return replace(action, refused=why)


def _with_before(action: Action, revisions: Mapping[str, RevisionRecord]) -> Action:
    if action.kind is not ActionKind.REPLACE or action.previous is None:
        return action
    revision = revisions.get(action.previous.fingerprint)
    if revision is None:
        return action
    return replace(action, before_body=revision.body)


def _declared(job: CompiledJob, record: JobRecord | None, against: _Against) -> Action:
    target = job.target.value
    observation = against.observation

    def act(kind: ActionKind, reason: str, **extra: Any) -> Action:
        return Action(kind, job.name, reason, target=target, job=job, previous=record, **extra)

    if record is None:
        return act(ActionKind.CREATE, _create_reason(job, observation, against.snapshot))
    state, missing = _effective(record, observation)
    running = state is None or not state.terminal
    if job.name in against.options.replace:
        return act(
            ActionKind.REPLACE,
            "replacement requested (--replace)",
            notes=_stop_note(record, running),
        )
    if record.fingerprint != job.fingerprint:
        reason = f"spec changed (revision {record.short_fingerprint} -> {job.short_fingerprint})"
        return act(ActionKind.REPLACE, reason, notes=_stop_note(record, running))
    if record.in_doubt:
        return act(
            ActionKind.CREATE,
            "an earlier submit was interrupted: apply looks the job up by its fingerprint"
            " label and adopts it, or submits it if it is not there",
        )
    if missing and running:
        return act(
            ActionKind.CREATE,
            f"job {record.remote_name} was deleted outside batchspec before it ended",
        )
    return _settled(job, record, state=state, missing=missing, now=against.now, act=act)


def _create_reason(
    job: CompiledJob, observation: Observation | None, snapshot: StateSnapshot
) -> str:
    if observation is not None:
        found = observation.with_key(job.target.value, key_label(job.fingerprint))
        if found:
            return f"not in state; adopts existing job {found[0].remote_name} (same fingerprint)"
    if job.name in snapshot.names_used:
        return "not in state (the name was used before by a job that is now forgotten)"
    return "new job"


def _stop_note(record: JobRecord, running: bool) -> tuple[str, ...]:
    if record.in_doubt:
        return ("the previous submit was interrupted; its job is cancelled if it exists",)
    if running and record.cancel_requested_at is None:
        return (f"cancels the running job {record.remote_name} first (jobs are immutable)",)
    return ()


def _settled(
    job: CompiledJob,
    record: JobRecord,
    *,
    state: JobState | None,
    missing: bool,
    now: datetime,
    act: Callable[..., Action],
) -> Action:
    gone = " (the service no longer lists it)" if missing else ""
    if state is JobState.PAUSED:
        return act(
            ActionKind.NOOP,
            f"PAUSED: job {record.remote_name}; the controller submits it again to resume it"
            " (the backend adopts it by its fingerprint)",
        )
    if state is None or not state.terminal:
        shown = state.value if state else "SUBMITTING"
        return act(ActionKind.NOOP, f"{shown}: job {record.remote_name}")
    if state.successful:
        return act(ActionKind.NOOP, f"{state.value}: job {record.remote_name}{gone}")
    if state is JobState.CANCELLED:
        if record.cancel_reason:
            why = f"cancelled by batchspec ({record.cancel_reason})"
        else:
            why = "cancelled outside batchspec (drift)"
        return act(ActionKind.NOOP, f"{why}; `apply --replace {job.name}` runs it again")
    policy = job.effective.policy
    attempts = record.retry + 1
    if record.retry < policy.max_retries:
        left = policy.max_retries - record.retry
        not_before = retry_not_before(record, policy)
        when = (
            f"; not before {not_before:%Y-%m-%d %H:%M:%S}Z"
            if not_before and not_before > now
            else ""
        )
        return act(
            ActionKind.RESUBMIT,
            f"{state.value} on attempt {attempts} of {policy.max_retries + 1};"
            f" policy.maxRetries allows {left} more{when}",
            not_before=not_before,
        )
    return act(
        ActionKind.NOOP,
        f"{state.value}; no retries left ({attempts} attempt(s), policy.maxRetries"
        f" {policy.max_retries}){gone}",
    )


def _undeclared(record: JobRecord, observation: Observation | None, policy: Policy) -> Action:
    state, missing = _effective(record, observation)
    running = (state is None or not state.terminal) and not missing
    if running and policy.on_removal == "cancel":
        return Action(
            ActionKind.CANCEL,
            record.name,
            "spec removed and policy.onRemoval is cancel",
            target=record.target,
            previous=record,
        )
    if running:
        why = (
            "spec removed; the job keeps running (policy.onRemoval: keep),"
            " batchspec stops tracking it"
        )
    else:
        shown = state.value if state else "unknown"
        why = f"spec removed; the job ended {shown}"
    return Action(ActionKind.FORGET, record.name, why, target=record.target, previous=record)
