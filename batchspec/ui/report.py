"""`batchspec report --html`: the plan, status, drift and plots in one file.

For CI artifacts and pull requests: a single HTML file with its styles,
scripts (plotly.js included) and data inlined, so it opens from disk, from
an artifact download or behind a proxy with no network at all. It renders
the same templates as the live app, so both show the same thing.

Drift in the report is what state recorded (`batchspec drift` and the
controller record it) plus the specs changed since their job ran, computed
from the specs given; the report itself calls no backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from batchspec.plan.actions import SYMBOLS, Action, Plan
from batchspec.plan.diff import body_diff
from batchspec.state.records import DriftFinding, utc_now
from batchspec.state.redact import redact
from batchspec.state.store import StateStore
from batchspec.ui.assets import inline_assets
from batchspec.ui.detail import DiffLine, JobDetail, load_detail
from batchspec.ui.live import LiveView
from batchspec.ui.outputs import JobOutputs, SampleCache, job_outputs
from batchspec.ui.render import render
from batchspec.ui.rows import JobRow, job_row, spec_labels
from batchspec.ui.schedules import Schedules, ScheduleView, SpecSchedules
from batchspec.ui.source import load_specs

ROWS_SHOWN = 1000
DRIFT_SHOWN = 200


@dataclass(frozen=True)
class PlannedAction:
    """One action of the plan as the report shows it."""

    kind: str
    symbol: str
    name: str
    target: str
    reason: str
    notes: tuple[str, ...]
    diff: list[DiffLine]


@dataclass
class JobSection:
    """One job's full section (the job page's body)."""

    detail: JobDetail
    outputs: JobOutputs
    schedule: ScheduleView | None


@dataclass
class Report:
    """Everything the report file shows."""

    generated: datetime
    state: str
    paths: list[str]
    plan: Plan | None
    actions: list[PlannedAction]
    errors: list[str]
    rows: list[JobRow]
    total_jobs: int
    drift: list[dict[str, Any]]
    sections: list[JobSection] = field(default_factory=list)

    @property
    def changes(self) -> list[PlannedAction]:
        """Actions that change something."""
        return [a for a in self.actions if a.kind != "noop"]

    @property
    def unchanged(self) -> list[PlannedAction]:
        """Jobs a merge would leave alone."""
        return [a for a in self.actions if a.kind == "noop"]

    def state_counts(self) -> dict[str, int]:
        """How many current jobs are in each state."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.state] = counts.get(row.state, 0) + 1
        return dict(sorted(counts.items()))


def _action(action: Action) -> PlannedAction:
    diff: list[DiffLine] = []
    if action.job is not None and action.submits:
        lines = body_diff(
            redact(action.before_body) if action.before_body is not None else None,
            redact(dict(action.job.body)),
        )
        kinds = {"+": "add", "-": "del", "@": "hunk"}
        diff = [DiffLine(kinds.get(line[:1], "same"), line) for line in lines]
    return PlannedAction(
        kind=action.kind.value,
        symbol=SYMBOLS[action.kind],
        name=action.name,
        target=action.target or (action.previous.target if action.previous else "-"),
        reason=action.reason,
        notes=tuple(action.notes),
        diff=diff,
    )


def _plan(store: StateStore, paths: Sequence[str]) -> tuple[Plan, list[str], list[DriftFinding]]:
    from batchspec.plan import PlanOptions, build_plan
    from batchspec.plan.render_text import format_diagnostic
    from batchspec.reconcile.drift import spec_changes

    desired = load_specs(paths)
    plan = build_plan(
        desired,
        store.snapshot(),
        None,
        revisions=store.revisions,
        options=PlanOptions(),
        state_path=str(store.path) if store.path else None,
    )
    errors: list[str] = []
    for d in plan.diagnostics:
        errors.extend(format_diagnostic(d))
    for p in plan.problems:
        errors.append(f"{p.name or p.file}: {p.message}" + (f" (hint: {p.hint})" if p.hint else ""))
    findings = spec_changes(store.current_jobs().values(), desired)
    return plan, errors, findings


def build_report(
    store: StateStore,
    paths: Sequence[str],
    *,
    jobs: int = 20,
    live: LiveView | None = None,
    schedules: Schedules | None = None,
    now: datetime | None = None,
) -> Report:
    """Read state (and the specs under `paths`, if any) into a Report."""
    now = now or utc_now()
    live = live or LiveView()
    schedules = schedules or SpecSchedules()
    plan, errors, findings = _plan(store, paths) if paths else (None, [], [])
    current = sorted(store.current_jobs().values(), key=lambda r: r.name)
    labels = _labels(store, [r.fingerprint for r in current[:ROWS_SHOWN]])
    rows = [
        job_row(r, now=now, live=live.status(r), labels=labels.get(r.fingerprint))
        for r in current[:ROWS_SHOWN]
    ]
    drift = [{"source": "this report", **f.to_dict()} for f in findings]
    drift += [{"source": "recorded", **e.to_dict()} for e in store.drift_events(limit=DRIFT_SHOWN)]
    report = Report(
        generated=now,
        state=str(store.path) if store.path else "(no state file yet)",
        paths=list(paths),
        plan=plan,
        actions=[_action(a) for a in plan.actions] if plan else [],
        errors=errors,
        rows=rows,
        total_jobs=len(current),
        drift=drift,
    )
    cache = SampleCache()
    for record in current[:jobs]:
        detail = load_detail(store, record.id, live, now)
        if detail is None:
            continue
        outputs = job_outputs(detail.record, detail.run_records, live, cache)
        spec = detail.revision.spec if detail.revision else {}
        schedule = schedules.view(detail.name, spec, detail.runs, now)
        report.sections.append(JobSection(detail, outputs, schedule))
    return report


def _labels(store: StateStore, fingerprints: list[str]) -> dict[str, dict[str, str]]:
    return {fp: spec_labels(rev.spec) for fp, rev in store.revisions(fingerprints).items()}


def render_report(report: Report) -> str:
    """The report as one self-contained HTML document."""
    shown = {s.detail.record.id for s in report.sections}

    def job_link(item: Any) -> str:
        return f"#job-{item.id}" if item.id in shown else "#status"

    return render(
        "report.html",
        title="batchspec report",
        report=report,
        job_link=job_link,
        assets=inline_assets(),
        home="#top",
        where=f"state {report.state} · generated {report.generated:%Y-%m-%d %H:%M:%S}Z",
    )


def write_report(report: Report, target: Path) -> Path:
    """Write the HTML next to where it belongs (via a temporary file)."""
    import os
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(render_report(report))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
