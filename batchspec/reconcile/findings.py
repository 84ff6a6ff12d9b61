"""Drift findings that come from comparing records with specs and files.

(What the backends report is compared in `sync`.) Pure functions over job
records: the reconcile step, the controller and `batchspec drift` call them.
"""

from __future__ import annotations

from collections.abc import Iterable

from batchspec.plan.desired import Desired
from batchspec.reconcile.outputs import check_outputs
from batchspec.state.records import DriftFinding, DriftKind, JobRecord, Phase


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
