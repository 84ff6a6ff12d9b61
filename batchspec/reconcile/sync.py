"""Fold an observation into recorded state, and notice changes made outside.

For every tracked job the observation either has it (record its state,
counts and output location; compare labels and state with what batchspec
did) or does not (confirm once with `get`: a job the service no longer knows
was deleted outside batchspec). Jobs listed under batchspec's labels that
state has never heard of are reported too. The confirmation `get` happens
once per vanished job, so a pass stays O(pages) in backend calls.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from batchspec.backends.registry import BackendProvider
from batchspec.errors import BackendError, JobNotFoundError
from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_JOB, RemoteJob
from batchspec.plan.attempts import key_label
from batchspec.plan.observed import Observation
from batchspec.reconcile.findings import finding
from batchspec.state.records import DriftFinding, DriftKind, JobRecord
from batchspec.state.store import StateStore

_CANCEL_STATES = (JobState.CANCELLED, JobState.CANCELLING)


@dataclass
class SyncResult:
    """What a sync found and changed."""

    changed: list[tuple[JobRecord, JobRecord]] = field(default_factory=list)
    missing: list[JobRecord] = field(default_factory=list)
    findings: list[DriftFinding] = field(default_factory=list)
    confirm_calls: int = 0


def compare(record: JobRecord, seen: RemoteJob) -> list[DriftFinding]:
    """Differences between what batchspec recorded and what the backend reports."""

    def found(kind: DriftKind, detail: str) -> DriftFinding:
        return finding(record, kind, detail)

    out: list[DriftFinding] = []
    expected = key_label(record.submit_key)
    label = seen.labels.get(LABEL_FINGERPRINT)
    # A backend that reports no labels at all cannot tell us about them.
    if seen.labels and label != expected:
        out.append(
            found(
                DriftKind.CHANGED_OUTSIDE,
                f"fingerprint label is {label!r}, batchspec submitted {expected[:12]}...",
            )
        )
    job_label = seen.labels.get(LABEL_JOB)
    if job_label is not None and job_label != record.name.lower()[:63]:
        out.append(
            found(
                DriftKind.CHANGED_OUTSIDE,
                f"job label is {job_label!r}, expected {record.name.lower()!r}",
            )
        )
    if seen.state in _CANCEL_STATES and record.cancel_requested_at is None:
        out.append(found(DriftKind.CANCELLED_OUTSIDE, "cancelled outside batchspec"))
    if record.terminal and seen.state is not record.state:
        assert record.state is not None
        out.append(
            found(
                DriftKind.CHANGED_OUTSIDE,
                f"state changed from {record.state.value} to {seen.state.value}"
                " after the job ended",
            )
        )
    if (
        record.terminal
        and record.output_location
        and seen.output_location
        and seen.output_location != record.output_location
    ):
        out.append(
            found(
                DriftKind.CHANGED_OUTSIDE,
                f"output location changed from {record.output_location} to {seen.output_location}",
            )
        )
    return out


def sync(
    store: StateStore,
    observation: Observation,
    provider: BackendProvider,
    *,
    actor: str,
    write: bool = True,
    names: Collection[str] | None = None,
) -> SyncResult:
    """Compare every tracked job with the observation; record it unless `write` is False.

    With `write=False` (the read-only `drift` command) job records are left
    alone; findings are returned for the caller to record. With `names`, only
    the jobs of those specs are compared (and jobs unknown to state are not
    looked for: that needs every job). A job in a location the observation
    did not list is left as it was recorded.
    """
    result = SyncResult()
    tracked = [r for r in store.tracked_jobs() if names is None or r.name in names]
    pairs: list[tuple[JobRecord, RemoteJob]] = []
    for record in tracked:
        if record.remote_name is None or not observation.covers(record.backend, record.remote_name):
            continue
        seen = observation.find(record.backend, record.remote_name)
        if seen is None:
            seen = _confirm(record, provider, result)
            if seen is None:
                continue
        result.findings.extend(compare(record, seen))
        pairs.append((record, seen))
    if names is None:
        result.findings.extend(_unknown(store, observation, tracked))
    if write:
        result.changed = store.record_observations(pairs, actor=actor)
        for record in result.missing:
            if record.missing_since is None:
                store.record_missing(
                    record.id, actor=actor, reason="the backend no longer knows this job"
                )
    return result


def _confirm(record: JobRecord, provider: BackendProvider, result: SyncResult) -> RemoteJob | None:
    """A tracked job missing from the listing: deleted, or stripped of our labels?"""
    assert record.remote_name is not None
    gone = finding(record, DriftKind.DELETED_OUTSIDE, "the backend no longer has this job")
    if record.missing_since is not None:
        result.findings.append(gone)
        return None
    try:
        result.confirm_calls += 1
        seen = provider(record.backend).get(record.remote_name)
    except JobNotFoundError:
        result.missing.append(record)
        result.findings.append(gone)
        return None
    except BackendError:
        return None  # cannot tell this time; the next pass asks again
    stripped = "the job no longer carries batchspec's managed-by label"
    result.findings.append(finding(record, DriftKind.CHANGED_OUTSIDE, stripped))
    return seen


def _unknown(
    store: StateStore, observation: Observation, tracked: list[JobRecord]
) -> list[DriftFinding]:
    """Jobs carrying batchspec's labels that this state file never recorded."""
    known = store.remote_names()
    pending = {(r.backend, key_label(r.submit_key)) for r in tracked if r.in_doubt}
    out = []
    for backend, jobs in observation.jobs.items():
        for remote_name, job in jobs.items():
            if (backend, remote_name) in known:
                continue
            label = job.labels.get(LABEL_FINGERPRINT) or ""
            if (backend, label) in pending:
                continue  # an interrupted submit that the next apply adopts
            out.append(
                DriftFinding(
                    DriftKind.UNKNOWN_JOB,
                    f"job {job.job_name!r} carries batchspec's labels but is not in this state",
                    name=job.job_name,
                    backend=backend,
                    remote_name=remote_name,
                )
            )
    return out
