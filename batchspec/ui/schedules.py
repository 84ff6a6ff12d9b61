"""The job page's place for recurring runs: past runs and the next ones.

Specs have no schedule yet; when they do, a `Schedules` implementation reads
the spec's schedule and the recorded runs and returns a `ScheduleView`, and
the job page and the report show it (the section is hidden while `view`
returns None). The app and the report take the implementation as an
argument, so nothing else changes when schedules arrive.
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
    """No spec is scheduled (the spec language has no schedule yet)."""

    def view(
        self, name: str, spec: Mapping[str, Any], runs: Sequence[JobRow], now: datetime
    ) -> ScheduleView | None:
        """Always None: the section stays hidden."""
        return None
