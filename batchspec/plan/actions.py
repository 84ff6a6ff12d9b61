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
from typing import Any

from batchspec.diagnostics import Diagnostic, has_errors
from batchspec.model.jobs import CompiledJob
from batchspec.plan.desired import Problem
from batchspec.state.records import JobRecord


class ActionKind(StrEnum):
    """What apply does for one job."""

    CREATE = "create"
    REPLACE = "replace"
    RESUBMIT = "resubmit"
    CANCEL = "cancel"
    FORGET = "forget"
    NOOP = "noop"


# Display order (and order of execution: removals free capacity before creates).
KIND_ORDER = (
    ActionKind.CANCEL,
    ActionKind.FORGET,
    ActionKind.REPLACE,
    ActionKind.RESUBMIT,
    ActionKind.CREATE,
    ActionKind.NOOP,
)
SYMBOLS = {
    ActionKind.CREATE: "+",
    ActionKind.REPLACE: "-/+",
    ActionKind.RESUBMIT: "↻",
    ActionKind.CANCEL: "x",
    ActionKind.FORGET: "-",
    ActionKind.NOOP: " ",
}
SUBMITTING = frozenset({ActionKind.CREATE, ActionKind.REPLACE, ActionKind.RESUBMIT})


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
        return any(a.changes for a in self.actions)

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
            f"{counts[ActionKind.NOOP]} unchanged",
        ]
        if self.refused:
            parts.append(f"{len(self.refused)} not submitted (retired service)")
        return ", ".join(parts)
