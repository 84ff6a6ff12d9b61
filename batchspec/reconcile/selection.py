"""What a command was pointed at: spec PATHS, `--select`, `--target`.

`plan` limits itself to them; `drift` must too, for every kind of finding,
or `drift specs/one.yaml --select scores --target local` reports (and
records) other teams' jobs, other targets' backends and their outputs. (What
to *list* is `observe.scope_of`; this is what to *report*.)

A recorded job is in scope when its name is selected, its target is
targeted, and it is declared in the specs read or its spec file lies under
the paths given (a removed spec's job still belongs to its folder). With no
paths given (the whole `specs/` folder) every recorded job passing the
filters is in scope. A job nobody recorded (an unknown job) has no spec
file: it is in scope when its name and backend pass the filters and either
no paths were given or its name is declared in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from batchspec.plan.desired import Desired
from batchspec.state.records import DriftFinding, JobRecord


@dataclass(frozen=True)
class Selection:
    """The specs read and how the command narrowed them (None: everything)."""

    desired: Desired | None = None
    whole: bool = True  # no PATHS given: the default folder, every recorded job

    @property
    def backends(self) -> frozenset[str] | None:
        """The backends to list at all (None: every one state or the specs name)."""
        if self.desired is None or not self.desired.targets:
            return None
        return frozenset(self.desired.targets)

    def covers(self, record: JobRecord) -> bool:
        """Is this recorded job within the paths, selection and targets?"""
        desired = self.desired
        if desired is None:
            return True
        if not desired.selected(record.name) or not desired.targeted(record.target):
            return False
        if self.whole or record.name in desired.jobs:
            return True
        if record.source is None:
            return False
        source = Path(record.source).resolve()
        return any(source == root or source.is_relative_to(root) for root in desired.scope)

    def admits(self, finding: DriftFinding, record: JobRecord | None) -> bool:
        """Is this finding (about `record`, or about a job nobody recorded) in scope?"""
        if record is not None:
            return self.covers(record)
        desired = self.desired
        if desired is None:
            return True
        if finding.backend is not None and not desired.targeted(finding.backend):
            return False
        if not desired.selected(finding.name or ""):
            return False
        return self.whole or (finding.name or "") in desired.jobs
