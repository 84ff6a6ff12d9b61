"""Helpers that put jobs into a state store the way apply would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchspec.model.enums import JobState
from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.plan.attempts import submit_key
from batchspec.state import JobRecord, StateStore


def record_job(
    store: StateStore,
    job: CompiledJob,
    state: JobState | None = JobState.RUNNING,
    *,
    remote_name: str | None = None,
    attempt: int | None = None,
    retry: int = 0,
    supersede: int | None = None,
    **observed: Any,
) -> JobRecord:
    """Record `job` as submitted (or only intended, with state=None) in `state`."""
    attempt = attempt or store.next_attempt(job.fingerprint)
    rec = store.record_intent(
        job,
        submit_key=submit_key(job.fingerprint, attempt),
        attempt=attempt,
        retry=retry,
        supersede=supersede,
        actor="test",
        reason="test",
    )
    if state is None:
        return rec
    name = remote_name or f"local-jobs/{job.name}-{rec.id:06d}"
    rec = store.record_submitted(rec.id, remote(job, name, JobState.QUEUED), actor="test")
    if state is not JobState.QUEUED or observed:
        store.record_observed(rec.id, remote(job, name, state, **observed), actor="test")
    return store.job(rec.id)


def remote(job: CompiledJob, name: str, state: JobState, **extra: Any) -> RemoteJob:
    """A RemoteJob for `job` as a backend would report it."""
    return RemoteJob(
        backend="local",
        remote_name=name,
        job_name=job.name,
        fingerprint=job.fingerprint,
        state=state,
        labels=dict(job.labels),
        **extra,
    )


def source_in(folder: Path, name: str) -> Path:
    """Where a spec file for `name` lives in a test's spec folder."""
    return folder / f"{name}.yaml"
