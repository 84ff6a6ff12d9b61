"""The job page's place for recurring runs: past runs and the next ones.

A `Schedules` implementation reads the spec's schedule and the recorded runs
and returns a `ScheduleView`; the job page and the report show it (the
section is hidden while `view` returns None). `SpecSchedules`, the default,
reads `spec.schedule` / `spec.trigger` of the recorded revision (each run of
a recurring spec is a job row of its own, so the runs are the name's jobs);
the app and the report take another implementation as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from batchspec.ui.rows import JobRow


@dataclass(frozen=True)
class ScheduleView:
    """A schedule in words, the runs it made and when it runs next."""

    expression: str
    past: Sequence[JobRow] = ()
    upcoming: Sequence[datetime] = field(default_factory=tuple)
    note: str | None = None


class Schedules(Protocol):
    """Reads a spec's schedule; None for a spec without one."""

    def view(
        self, name: str, spec: Mapping[str, Any], runs: Sequence[JobRow], now: datetime
    ) -> ScheduleView | None:
        """The schedule of `name` with its past `runs` (newest first)."""
        ...


class NoSchedules:
    """Show no schedule section at all."""

    def view(
        self, name: str, spec: Mapping[str, Any], runs: Sequence[JobRow], now: datetime
    ) -> ScheduleView | None:
        """Always None: the section stays hidden."""
        return None


class SpecSchedules:
    """The schedule as the recorded spec declares it: its words, the next
    ticks on its wall clock, and the newest `keep` runs."""

    def view(
        self, name: str, spec: Mapping[str, Any], runs: Sequence[JobRow], now: datetime
    ) -> ScheduleView | None:
        """None for a spec that runs once."""
        from batchspec.plan.actions import UPCOMING_SHOWN
        from batchspec.plan.runs import recurrence

        block = spec.get("spec")
        found = recurrence(block) if isinstance(block, Mapping) else None
        if found is None:
            return None
        upcoming = tuple(found.cron.next(now, UPCOMING_SHOWN)) if found.cron else ()
        sched = block.get("schedule") if isinstance(block, Mapping) else None
        note = None
        if isinstance(sched, Mapping):
            policy, catch_up = sched.get("concurrency") or "Allow", sched.get("catchUp") or 0
            note = f"concurrency {policy}, catchUp {catch_up}"
            if sched.get("startingDeadline"):
                note += f", startingDeadline {sched['startingDeadline']}"
        past = [r for r in runs if r.name == name][: found.keep]
        return ScheduleView(found.describe(), past, upcoming, note)
