"""What a recurring spec did and will do: its runs, its next ticks, what went wrong.

One reading of state for every reader: `batchspec runs` lists it, `status`
shows the last and next run, `drift` reports ticks nobody decided and runs
that never finished, and the web view draws it. The schedule comes from the
spec (the declared one when the caller has it, else the revision its latest
run was made from), so a reader without the spec files still sees the
schedule that ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from batchspec.plan.actions import UPCOMING_SHOWN
from batchspec.schedule.cron import Cron, ScheduleError
from batchspec.state.records import RunOutcome, RunRecord, ScheduleRecord, to_text
from batchspec.state.store import StateStore

DEFAULT_KEEP = 3
OVERDUE_GRACE = timedelta(hours=1)
"""How long a tick may wait for a controller before `drift` calls it missed,
when the schedule sets no startingDeadline (a controller decides a due tick
on its next pass, a few seconds to minutes later)."""


@dataclass(frozen=True)
class Recurrence:
    """The recurring part of a spec: its schedule (if any), `keep`, the trigger."""

    cron: Cron | None
    keep: int = DEFAULT_KEEP
    trigger: bool = False
    deadline: timedelta | None = None

    def describe(self) -> str:
        """`At 02:00 every day (Europe/Berlin)`, `when its inputs change`, or both."""
        if self.cron is None:
            return "when its inputs change"
        text = self.cron.explain()
        return text + ", when its inputs changed" if self.trigger else text


def recurrence(block: Mapping[str, Any]) -> Recurrence | None:
    """The recurrence of a spec's `spec:` block as written (camelCase keys);
    None for a spec that runs once (or a schedule that no longer parses)."""
    sched = block.get("schedule")
    trigger = block.get("trigger") == "inputs"
    if not isinstance(sched, Mapping):
        return Recurrence(None, trigger=True) if trigger else None
    try:
        cron = Cron.parse(str(sched.get("cron", "")), str(sched.get("timeZone") or "UTC"))
    except ScheduleError:
        return None
    deadline = sched.get("startingDeadline")
    seconds = _seconds(deadline) if isinstance(deadline, str) else None
    return Recurrence(
        cron,
        keep=int(sched.get("keep") or DEFAULT_KEEP),
        trigger=trigger,
        deadline=timedelta(seconds=seconds) if seconds is not None else None,
    )


def _seconds(text: str) -> int | None:
    from batchspec.model.spec import duration_seconds

    try:
        return duration_seconds(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class RunsOverview:
    """A recurring spec's runs (newest first), its next ticks, and its record."""

    name: str
    recurrence: Recurrence
    record: ScheduleRecord | None
    runs: tuple[RunRecord, ...]
    upcoming: tuple[datetime, ...]
    now: datetime

    @property
    def zone(self) -> str:
        """The schedule's time zone (UTC for an input trigger alone)."""
        cron = self.recurrence.cron
        return cron.zone_name if cron else "UTC"

    def shown(self, at: datetime | None) -> str:
        """`2026-12-03 02:00 Europe/Berlin` on the schedule's wall clock."""
        if at is None:
            return "-"
        from batchspec.schedule.cron import shown

        return shown(at, self.zone)

    @property
    def last(self) -> RunRecord | None:
        """The newest tick that ran."""
        return next((r for r in self.runs if r.outcome is RunOutcome.RUN), None)

    @property
    def next(self) -> datetime | None:
        """The next tick (None for an input trigger alone)."""
        return self.upcoming[0] if self.upcoming else None

    def kept(self) -> list[RunRecord]:
        """Unfinished runs and the newest `keep` finished ones (what `status`,
        `runs` and the web view show; `runs --all` shows history)."""
        finished = [r for r in self.runs if r.finished][: self.recurrence.keep]
        chosen = {r.id for r in finished}
        return [r for r in self.runs if r.id in chosen or not r.finished]

    def overdue(self) -> list[datetime]:
        """Ticks nobody decided although they were due longer ago than the
        starting deadline (or an hour): no controller ran them."""
        cron, record = self.recurrence.cron, self.record
        if cron is None or record is None:
            return []
        grace = self.recurrence.deadline or OVERDUE_GRACE
        due, _ = cron.between(record.decided_until, self.now - grace, 100)
        return due

    def unfinished(self) -> list[RunRecord]:
        """Runs still not finished when a later tick came (or, for an input
        trigger, an hour after they started): runs that never finished."""
        out = []
        for run in self.runs:
            if run.outcome is not RunOutcome.RUN or run.finished:
                continue
            cron = self.recurrence.cron
            later = cron.next(run.scheduled_at) if cron else [run.scheduled_at + OVERDUE_GRACE]
            if later and later[0] <= self.now:
                out.append(run)
        return out

    def to_dict(self, *, every: bool = False) -> dict[str, Any]:
        """JSON-ready: the schedule, last and next run, and the runs shown."""
        last = self.last
        record = self.record
        return {
            "name": self.name,
            "schedule": self.recurrence.describe(),
            "timeZone": self.zone,
            "next": [to_text(t) for t in self.upcoming],
            "lastRun": last.to_dict() if last else None,
            "recordedSince": to_text(record.since) if record else None,
            "inputsError": record.error if record else None,
            "runs": [r.to_dict() for r in (self.runs if every else self.kept())],
        }


def overview(
    store: StateStore,
    name: str,
    now: datetime,
    *,
    spec: Mapping[str, Any] | None = None,
) -> RunsOverview | None:
    """The runs of `name`; `spec` is its `spec:` block (default: the recorded
    revision of its latest job). None for a spec that runs once."""
    if spec is None:
        spec = recorded_spec(store, name)
    found = recurrence(spec or {})
    if found is None:
        return None
    upcoming = tuple(found.cron.next(now, UPCOMING_SHOWN)) if found.cron else ()
    return RunsOverview(
        name,
        found,
        store.schedule_of(name),
        tuple(store.runs(name)),
        upcoming,
        now,
    )


def recorded_spec(store: StateStore, name: str) -> Mapping[str, Any] | None:
    """The `spec:` block of the revision `name` was last declared with (its
    schedule's), else the one its current job ran."""
    sched, record = store.schedule_of(name), store.current_job(name)
    fingerprint = (sched.fingerprint if sched else None) or (record.fingerprint if record else None)
    if fingerprint is None:
        return None
    revision = store.revision(fingerprint)
    if revision is None:
        return None
    block = revision.spec.get("spec")
    return block if isinstance(block, Mapping) else None
