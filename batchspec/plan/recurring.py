"""Planning a recurring spec: which ticks run now, which are missed or skipped.

Pure, like the rest of the planner: the schedule's recorded cursor, the
spec's latest run (as observed this pass), the input snapshot the step took
and the planning time go in; actions come out. The same function serves
`plan` (what a pull request shows), `apply` and every controller pass.

The rules, in the order they apply:

* A spec recorded for the first time runs nothing (`schedule` action):
  its ticks count from then. An input trigger without a schedule runs on its
  first snapshot: the inputs as they are have never been scored.
* Due ticks are those after the cursor, up to now. The latest runs if it is
  no later than `startingDeadline`; of the earlier ones (ticks that passed
  while no controller ran), the newest `catchUp` within the deadline run
  late, the others are recorded as missed.
* `concurrency` with an unfinished run: Forbid skips the ticks, Replace
  cancels that run and starts the newest tick only, Allow starts them all.
* With an input trigger as well, a tick runs only when the inputs changed
  since the last run; a snapshot that could not be taken runs nothing (the
  step recorded why) and the tick waits for the next pass.
* A changed spec runs from the next tick on; ticks already decided stay so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from batchspec.model.enums import JobState
from batchspec.model.jobs import CompiledJob
from batchspec.plan.actions import Action, ActionKind, PlannedRun, Upcoming
from batchspec.plan.attempts import retry_not_before
from batchspec.schedule.cron import Cron
from batchspec.schedule.variables import inputs_run_key, run_key
from batchspec.state.records import JobRecord, RunOutcome, ScheduleRecord
from batchspec.state.runs import MAX_RECORDED_TICKS, TickDecision


@dataclass(frozen=True)
class InputsSeen:
    """The input snapshot of an input-triggered spec this pass, or why not."""

    digest: str | None = None
    count: int = 0
    error: str | None = None


@dataclass(frozen=True)
class RecurringContext:
    """What planning one recurring spec needs besides the spec."""

    record: JobRecord | None  # the latest run (the spec's current job)
    state: JobState | None  # its state as observed (None: not submitted yet)
    schedule: ScheduleRecord | None
    inputs: InputsSeen | None  # None: no snapshot taken (a plan without --refresh)
    now: datetime
    run_now: bool = False


def cron_of(job: CompiledJob) -> Cron | None:
    """The spec's schedule (validated already), or None without one."""
    sched = job.effective.schedule
    return Cron.parse(sched.cron, sched.time_zone) if sched else None


def upcoming(job: CompiledJob, now: datetime) -> Upcoming:
    """When `job` runs next, for the plan's readers (worked out when read)."""
    cron = cron_of(job)
    zone = cron.zone_name if cron else "UTC"
    return Upcoming(job.name, zone, cron, now, trigger=job.effective.trigger is not None)


def plan_recurring(job: CompiledJob, ctx: RecurringContext) -> list[Action]:
    """The actions of one recurring spec (see the module docstring)."""
    target = job.target.value

    def act(kind: ActionKind, reason: str, **extra: Any) -> Action:
        return Action(kind, job.name, reason, target=target, job=job, previous=ctx.record, **extra)

    record = ctx.record
    if record is not None and record.in_doubt and record.run_key and record.scheduled_at:
        run = PlannedRun(record.run_key, record.scheduled_at, _zone(job), record.inputs_digest)
        return [
            act(
                ActionKind.RUN,
                f"@ {run.shown()}: an earlier submit was interrupted; looks the run up by its"
                " key and adopts it, or submits it",
                run=run,
            )
        ]
    if ctx.run_now:
        run = PlannedRun(run_key(ctx.now), ctx.now.replace(microsecond=0), _zone(job), tick=False)
        return [act(ActionKind.RUN, f"@ {run.shown()}: requested now (--now)", run=run)]
    if ctx.schedule is None:
        return [_first(job, ctx, act)]
    cron = cron_of(job)
    actions = _ticks(job, cron, ctx, act) if cron else _inputs_changed(job, ctx, act)
    if actions:
        return actions
    retry = _retry(job, ctx, act)
    return [retry if retry is not None else _quiet(job, cron, ctx, act)]


def _retry(job: CompiledJob, ctx: RecurringContext, act: Callable[..., Action]) -> Action | None:
    """The latest run failed and policy.maxRetries allows more: run it again
    (same run key, next attempt), after its backoff."""
    record, state, policy = ctx.record, ctx.state, job.effective.policy
    if (
        record is None
        or record.run_key is None
        or record.scheduled_at is None
        or state is None
        or not state.terminal
        or state.successful
        or state is JobState.CANCELLED
        or record.fingerprint != job.fingerprint
        or record.retry >= policy.max_retries
    ):
        return None
    run = PlannedRun(
        record.run_key, record.scheduled_at, _zone(job), record.inputs_digest, tick=False
    )
    not_before = retry_not_before(record, policy)
    when = (
        f"; not before {not_before:%Y-%m-%d %H:%M:%S}Z"
        if not_before and not_before > ctx.now
        else ""
    )
    return act(
        ActionKind.RESUBMIT,
        f"run {record.run_key} {state.value} on attempt {record.retry + 1} of"
        f" {policy.max_retries + 1}{when}",
        run=run,
        not_before=not_before,
    )


def _zone(job: CompiledJob) -> str:
    sched = job.effective.schedule
    return sched.time_zone if sched else "UTC"


def _first(job: CompiledJob, ctx: RecurringContext, act: Callable[..., Action]) -> Action:
    cron = cron_of(job)
    if cron is not None:
        first = cron.next(ctx.now)
        when = f"; first run @ {cron.shown(first[0])}" if first else ""
        return act(
            ActionKind.SCHEDULE,
            f"records the schedule ({cron.explain()}); nothing runs before its first tick{when}",
            cursor=ctx.now,
        )
    seen = ctx.inputs
    if seen is not None and seen.digest is not None:
        run = PlannedRun(
            inputs_run_key(seen.digest), ctx.now, tick=False, inputs_digest=seen.digest
        )
        return act(
            ActionKind.RUN,
            f"@ {run.shown()}: first run of an input trigger ({seen.count} input file(s))",
            run=run,
            cursor=ctx.now,
        )
    return act(
        ActionKind.SCHEDULE,
        "records the input trigger; the controller runs it when it has listed the inputs",
        cursor=ctx.now,
    )


def _running(ctx: RecurringContext) -> bool:
    record = ctx.record
    return (
        record is not None
        and record.missing_since is None
        and (ctx.state is None or not ctx.state.terminal)
    )


def _ticks(
    job: CompiledJob, cron: Cron, ctx: RecurringContext, act: Callable[..., Action]
) -> list[Action]:
    sched, spec = ctx.schedule, job.effective.schedule
    assert sched is not None and spec is not None
    due, older = cron.between(sched.decided_until, ctx.now, MAX_RECORDED_TICKS)
    if not due:
        return []
    deadline = spec.starting_deadline_seconds
    zone = cron.zone_name

    def late(tick: datetime) -> bool:
        return deadline is not None and ctx.now - tick > timedelta(seconds=deadline)

    on_time = [] if late(due[-1]) else [due[-1]]
    earlier = [t for t in due[:-1] if not late(t)]
    chosen = (earlier[-spec.catch_up :] if spec.catch_up else []) + on_time
    decided: list[TickDecision] = []
    for tick in due:
        if tick in chosen:
            continue
        why = (
            f"missed by {_ago(ctx.now - tick)} (startingDeadline {spec.starting_deadline})"
            if late(tick)
            else f"missed while no controller ran (catchUp {spec.catch_up})"
        )
        decided.append(TickDecision(run_key(tick), tick, RunOutcome.MISSED, why))
    note = f"{len(due)}+ ticks were due; the oldest are not recorded" if older else None
    chosen, skipped = _concurrency(spec.concurrency, chosen, ctx)
    decided += skipped
    if chosen and job.effective.trigger:
        chosen, unchanged = _changed_inputs(chosen, ctx)
        decided += unchanged
        if ctx.inputs is None or ctx.inputs.digest is None:
            return []  # no snapshot: the ticks wait for one (the step recorded why)
    decided.sort(key=lambda d: d.at)
    if not chosen:
        return [
            act(
                ActionKind.SKIP,
                _skip_reason(decided, cron),
                decided=tuple(decided),
                cursor=due[-1],
                notes=(note,) if note else (),
            )
        ]
    digest = ctx.inputs.digest if job.effective.trigger and ctx.inputs else None
    replaces = spec.concurrency == "Replace" and _running(ctx)
    actions = []
    for i, tick in enumerate(chosen):
        run = PlannedRun(run_key(tick), tick, zone, digest, replaces=replaces and i == 0)
        why = "tick due" if tick == due[-1] else f"catching up ({_ago(ctx.now - tick)} late)"
        if run.replaces and ctx.record is not None:
            why += f"; cancels the unfinished run {ctx.record.run_key} (concurrency: Replace)"
        if ctx.record is not None and ctx.record.fingerprint != job.fingerprint and i == 0:
            why += f"; new revision {job.short_fingerprint}"
        actions.append(
            act(
                ActionKind.RUN,
                f"@ {run.shown()}: {why}",
                run=run,
                decided=tuple(d for d in decided if d.at < tick) if i == 0 else (),
                notes=(note,) if note and i == 0 else (),
            )
        )
    rest = tuple(d for d in decided if d.at > chosen[0])
    if rest:
        actions.append(act(ActionKind.SKIP, _skip_reason(rest, cron), decided=rest, cursor=due[-1]))
    return actions


def _concurrency(
    policy: str, chosen: list[datetime], ctx: RecurringContext
) -> tuple[list[datetime], list[TickDecision]]:
    """Apply Forbid / Replace / Allow to the ticks chosen to run."""
    if not chosen or policy == "Allow":
        return chosen, []
    running = _running(ctx)
    record = ctx.record
    if policy == "Forbid" and running and record is not None:
        shown = ctx.state.value if ctx.state else "SUBMITTING"
        why = f"run {record.run_key} is still {shown} (concurrency: Forbid)"
        return [], [TickDecision(run_key(t), t, RunOutcome.SKIPPED, why) for t in chosen]
    # Forbid with nothing running, and Replace: one run at a time, the newest tick.
    why = f"only one run at a time (concurrency: {policy}): the tick of {run_key(chosen[-1])} runs"
    skipped = [TickDecision(run_key(t), t, RunOutcome.SKIPPED, why) for t in chosen[:-1]]
    return chosen[-1:], skipped


def _changed_inputs(
    chosen: list[datetime], ctx: RecurringContext
) -> tuple[list[datetime], list[TickDecision]]:
    seen, sched = ctx.inputs, ctx.schedule
    if seen is None or seen.digest is None:
        return [], []
    if sched is not None and sched.inputs_digest == seen.digest:
        why = f"inputs unchanged since the last run (snapshot {seen.digest[:12]})"
        return [], [
            TickDecision(run_key(t), t, RunOutcome.SKIPPED, why, seen.digest) for t in chosen
        ]
    return chosen, []


def _inputs_changed(
    job: CompiledJob, ctx: RecurringContext, act: Callable[..., Action]
) -> list[Action]:
    """An input trigger without a schedule: a run per new snapshot."""
    seen, sched = ctx.inputs, ctx.schedule
    if seen is None or seen.digest is None or sched is None:
        return []
    if sched.inputs_digest == seen.digest:
        return []
    running = _running(ctx)
    policy = "Allow"
    if job.effective.schedule is not None:
        policy = job.effective.schedule.concurrency
    if running and policy == "Forbid":
        return []
    run = PlannedRun(inputs_run_key(seen.digest), ctx.now, tick=False, inputs_digest=seen.digest)
    return [
        act(
            ActionKind.RUN,
            f"@ {run.shown()}: inputs changed ({seen.count} file(s), snapshot {seen.digest[:12]})",
            run=run,
        )
    ]


def _quiet(
    job: CompiledJob, cron: Cron | None, ctx: RecurringContext, act: Callable[..., Action]
) -> Action:
    """Nothing to run this pass: say what the latest run is doing (when it runs
    next is the plan's "Next runs", worked out only when a reader asks)."""
    record, parts = ctx.record, []
    if record is not None:
        shown = ctx.state.value if ctx.state else "SUBMITTING"
        parts.append(f"last run {record.run_key or record.remote_name}: {shown}")
        if record.fingerprint != job.fingerprint:
            parts.append(
                f"spec changed (revision {record.short_fingerprint} -> {job.short_fingerprint});"
                " the new revision runs from the next tick"
            )
    if job.effective.trigger:
        seen = ctx.inputs
        if seen is not None and seen.error:
            parts.append(f"inputs could not be listed ({seen.error}); retried next pass")
        elif cron is None:
            parts.append("runs when its inputs change")
    return act(ActionKind.NOOP, "; ".join(parts) or "waiting for its first tick")


def _skip_reason(decided: Mapping[int, TickDecision] | Any, cron: Cron) -> str:
    items = list(decided)
    if len(items) == 1:
        d = items[0]
        return f"@ {cron.shown(d.at)}: {d.outcome.value}: {d.reason}"
    first, last = items[0], items[-1]
    return (
        f"{len(items)} ticks from {cron.shown(first.at)} to {cron.shown(last.at)} not run"
        f" (latest: {last.outcome.value}: {last.reason})"
    )


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
