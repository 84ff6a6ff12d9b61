"""Drift findings that come from comparing records with specs and files.

(What the backends report is compared in `sync`.) Pure functions over job
records: the reconcile step, the controller and `batchspec drift` call them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from batchspec.plan.desired import Desired
from batchspec.plan.runs import overview
from batchspec.reconcile.outputs import check_outputs
from batchspec.state.records import DriftFinding, DriftKind, JobRecord, Phase, RunOutcome
from batchspec.state.store import StateStore

MAX_TICK_FINDINGS = 10
"""Missed ticks reported per spec (the newest); `batchspec runs --all` has the rest."""


def finding(record: JobRecord, kind: DriftKind, detail: str) -> DriftFinding:
    """A finding about a recorded job."""
    return DriftFinding(
        kind,
        detail,
        name=record.name,
        job_id=record.id,
        backend=record.backend,
        remote_name=record.remote_name,
    )


def spec_changes(current: Iterable[JobRecord], desired: Desired) -> list[DriftFinding]:
    """Declared specs whose revision differs from the job that ran for them."""
    out = []
    for record in current:
        job = desired.jobs.get(record.name)
        if job is None or record.phase is not Phase.SUBMITTED:
            continue
        if job.fingerprint != record.fingerprint:
            out.append(
                finding(
                    record,
                    DriftKind.SPEC_CHANGED,
                    f"spec changed after its job ran: job ran revision {record.short_fingerprint},"
                    f" the spec is now revision {job.short_fingerprint}",
                )
            )
    return out


def output_changes(records: Iterable[JobRecord]) -> list[DriftFinding]:
    """Succeeded jobs whose outputs went missing or changed since."""
    out = []
    for record in records:
        if not (record.state and record.state.successful and record.output_location):
            continue
        for kind, detail in check_outputs(record.output_location, record.manifest_sha256):
            missing = kind == "missing"
            drift = DriftKind.OUTPUTS_MISSING if missing else DriftKind.OUTPUTS_CHANGED
            out.append(finding(record, drift, detail))
    return out


def run_changes(
    store: StateStore, now: datetime, desired: Desired | None = None
) -> list[DriftFinding]:
    """Recurring specs that did not run as declared: ticks recorded as missed
    (among the kept runs), ticks due that no controller decided, and runs
    still unfinished when a later tick came."""
    names = set(store.schedules())
    if desired is not None:
        names = {n for n in names if n in desired.jobs}
    out: list[DriftFinding] = []
    for name in sorted(names):
        job = desired.jobs.get(name) if desired is not None else None
        spec = job.spec.model_dump(mode="json", by_alias=True)["spec"] if job else None
        found = overview(store, name, now, spec=spec)
        if found is None:
            continue
        missed = [r for r in found.kept() if r.outcome is RunOutcome.MISSED]
        for run in missed[:MAX_TICK_FINDINGS]:
            detail = f"tick {found.shown(run.scheduled_at)} was missed: {run.reason}"
            out.append(DriftFinding(DriftKind.MISSED_TICKS, detail, name=name))
        for tick in found.overdue()[-MAX_TICK_FINDINGS:]:
            detail = (
                f"tick {found.shown(tick)} is due and no controller decided it"
                " (is `batchspec reconcile` running?)"
            )
            out.append(DriftFinding(DriftKind.MISSED_TICKS, detail, name=name))
        for run in found.unfinished():
            detail = (
                f"run {run.run_key} ({found.shown(run.scheduled_at)}) is still {run.state}"
                " although a later tick came"
            )
            record = run.job
            if record is None:
                out.append(DriftFinding(DriftKind.UNFINISHED_RUN, detail, name=name))
            else:
                out.append(finding(record, DriftKind.UNFINISHED_RUN, detail))
    return out
