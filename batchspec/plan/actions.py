"""Plan actions: what apply would do to each job, and why.

Jobs are immutable, so there is no "update": a changed spec is a *replace*
(a new job for the new revision). Every action carries a reason written for
the person reading a pull request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from batchspec.diagnostics import Diagnostic, has_errors
from batchspec.model.jobs import CompiledJob
from batchspec.plan.desired import Problem
from batchspec.plan.models import ModelAction
from batchspec.schedule.cron import Cron
from batchspec.state.records import JobRecord, from_text, to_text
from batchspec.state.runs import TickDecision


class ActionKind(StrEnum):
    """What apply does for one job."""

    CREATE = "create"
    REPLACE = "replace"
    RESUBMIT = "resubmit"
    CANCEL = "cancel"
    FORGET = "forget"
    RUN = "run"  # one run of a recurring spec (a tick, changed inputs, or --now)
    SCHEDULE = "schedule"  # record a recurring spec; nothing runs before its first tick
    SKIP = "skip"  # record ticks that did not run (missed, skipped)
    NOOP = "noop"


# Display order (and order of execution: removals free capacity before creates).
KIND_ORDER = (
    ActionKind.CANCEL,
    ActionKind.FORGET,
    ActionKind.REPLACE,
    ActionKind.RESUBMIT,
    ActionKind.CREATE,
    ActionKind.RUN,
    ActionKind.SCHEDULE,
    ActionKind.SKIP,
    ActionKind.NOOP,
)
SYMBOLS = {
    ActionKind.CREATE: "+",
    ActionKind.REPLACE: "-/+",
    ActionKind.RESUBMIT: "↻",
    ActionKind.CANCEL: "x",
    ActionKind.FORGET: "-",
    ActionKind.RUN: "+",
    ActionKind.SCHEDULE: "+",
    ActionKind.SKIP: "~",
    ActionKind.NOOP: " ",
}
UPCOMING_SHOWN = 3  # next runs shown per recurring spec
RECURRING = (ActionKind.RUN, ActionKind.SCHEDULE, ActionKind.SKIP)
"""The kinds only recurring specs have (summaries show them only when present)."""
SUBMITTING = frozenset({ActionKind.CREATE, ActionKind.REPLACE, ActionKind.RESUBMIT, ActionKind.RUN})


@dataclass(frozen=True)
class PlannedRun:
    """One run of a recurring spec: its key, scheduled time and wall clock.

    `tick` is False for a run that is not one of the schedule's ticks (an
    input change without a schedule, `apply --now`): it moves no cursor.
    `replaces` cancels an unfinished run first (concurrency: Replace)."""

    key: str
    at: datetime
    zone: str = "UTC"
    inputs_digest: str | None = None
    tick: bool = True
    replaces: bool = False

    def shown(self) -> str:
        """`2026-12-03 02:00 Europe/Berlin`."""
        from batchspec.schedule.cron import shown

        return shown(self.at, self.zone)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "key": self.key,
            "at": to_text(self.at),
            "zone": self.zone,
            "inputsDigest": self.inputs_digest,
            "tick": self.tick,
            "replaces": self.replaces,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlannedRun:
        """Inverse of `to_dict`."""
        at = from_text(data["at"])
        assert at is not None
        return cls(
            key=data["key"],
            at=at,
            zone=data.get("zone", "UTC"),
            inputs_digest=data.get("inputsDigest"),
            tick=bool(data.get("tick", True)),
            replaces=bool(data.get("replaces", False)),
        )


@dataclass(frozen=True)
class Upcoming:
    """When a recurring spec runs next, for the plan's readers.

    Worked out when first read, from the schedule and the planning time: the
    controller plans on every pass and never reads it, and the cron
    arithmetic of the next ticks would be most of a pass where nothing is due.
    A saved plan carries the words and times as they were (`known`)."""

    name: str
    zone: str = "UTC"
    cron: Cron | None = None
    after: datetime | None = None
    trigger: bool = False
    known: tuple[str, tuple[datetime, ...]] | None = None

    @cached_property
    def description(self) -> str:
        """`At 02:00 every day (Europe/Berlin)`, or `when its inputs change`."""
        if self.known is not None:
            return self.known[0]
        if self.cron is None:
            return "when its inputs change"
        words = self.cron.explain()
        return words + ", when its inputs changed" if self.trigger else words

    @cached_property
    def times(self) -> tuple[datetime, ...]:
        """The next ticks (none for an input trigger alone)."""
        if self.known is not None:
            return self.known[1]
        if self.cron is None or self.after is None:
            return ()
        return tuple(self.cron.next(self.after, UPCOMING_SHOWN))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "name": self.name,
            "schedule": self.description,
            "timeZone": self.zone,
            "next": [to_text(t) for t in self.times],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Upcoming:
        """Inverse of `to_dict`."""
        times = (from_text(t) for t in data.get("next") or ())
        known = (str(data["schedule"]), tuple(t for t in times if t is not None))
        return cls(data["name"], data.get("timeZone", "UTC"), known=known)

    def shown(self) -> list[str]:
        """`2026-12-04 02:00 Europe/Berlin` for each coming run."""
        from batchspec.schedule.cron import shown

        return [shown(t, self.zone) for t in self.times]


@dataclass(frozen=True)
class Action:
    """One job's action with everything apply and the renderers need."""

    kind: ActionKind
    name: str
    reason: str
    target: str | None = None
    job: CompiledJob | None = None
    previous: JobRecord | None = None
    before_body: Mapping[str, Any] | None = None
    not_before: datetime | None = None
    notes: tuple[str, ...] = ()
    run: PlannedRun | None = None
    decided: tuple[TickDecision, ...] = ()  # ticks recorded as missed or skipped
    cursor: datetime | None = None  # SCHEDULE: ticks after it count; SKIP: decided until
    # Why apply will not carry this action out (a retired service), or None.
    refused: str | None = None

    @property
    def changes(self) -> bool:
        """False for a no-op, and for an action apply refuses to carry out."""
        return self.kind is not ActionKind.NOOP and self.refused is None

    @property
    def submits(self) -> bool:
        """True when apply submits a job for this action."""
        return self.kind in SUBMITTING and self.refused is None

    @property
    def fingerprint(self) -> str | None:
        """The revision apply would run (None for cancel / forget / noop)."""
        return self.job.fingerprint if self.job else None


@dataclass
class Plan:
    """Actions for every job in scope, and what kept some from being planned."""

    actions: list[Action]
    state_hash: str
    lineage: str
    serial: int
    created_at: datetime
    state_path: str | None = None
    refreshed: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unobserved: dict[str, str] = field(default_factory=dict)
    upcoming: list[Upcoming] = field(default_factory=list)
    models: list[ModelAction] = field(default_factory=list)  # carried out before the jobs

    def counts(self) -> dict[ActionKind, int]:
        """Number of actions per kind, every kind present (zeros included); refused
        actions are counted apart (`refused`)."""
        found = Counter(a.kind for a in self.actions if a.refused is None)
        return {kind: found.get(kind, 0) for kind in KIND_ORDER}

    @property
    def refused(self) -> list[Action]:
        """Actions apply will not carry out (submissions to a retired service)."""
        return [a for a in self.actions if a.refused is not None]

    @property
    def changes(self) -> list[Action]:
        """Actions that change something, in execution order."""
        rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
        return sorted((a for a in self.actions if a.changes), key=lambda a: (rank[a.kind], a.name))

    @property
    def has_changes(self) -> bool:
        """True when applying would do anything."""
        return any(a.changes for a in self.actions) or any(m.changes for m in self.models)

    @property
    def has_errors(self) -> bool:
        """True when some spec could not be loaded, compiled or observed."""
        return bool(self.problems) or has_errors(self.diagnostics) or bool(self.unobserved)

    def summary(self) -> str:
        """`2 to create, 1 to replace, ... 5 unchanged`."""
        counts = self.counts()
        parts = [
            f"{counts[ActionKind.CREATE]} to create",
            f"{counts[ActionKind.REPLACE]} to replace",
            f"{counts[ActionKind.RESUBMIT]} to resubmit",
            f"{counts[ActionKind.CANCEL]} to cancel",
            f"{counts[ActionKind.FORGET]} to forget",
        ]
        if self.upcoming or any(counts[kind] for kind in RECURRING):
            parts += [
                f"{counts[ActionKind.RUN]} to run",
                f"{counts[ActionKind.SCHEDULE]} to schedule",
                f"{counts[ActionKind.SKIP]} to skip",
            ]
        parts.append(f"{counts[ActionKind.NOOP]} unchanged")
        uploads = sum(1 for m in self.models if m.changes)
        if self.models:
            parts.insert(0, f"{uploads} model(s) to upload")
        if self.refused:
            parts.append(f"{len(self.refused)} not submitted (retired service)")
        return ", ".join(parts)
