"""Drift: what no longer matches the specs or what batchspec recorded.

Kept apart from health on purpose: a FAILED job is a health problem the
controller handles with retries; drift is a change nobody declared. Kinds:

* spec_changed: the declared spec's revision differs from the job that ran;
* cancelled_outside / deleted_outside / changed_outside: someone touched the
  job at the service (console, gcloud, another tool);
* unknown_job: a job carries batchspec's labels but this state never
  recorded it (another state file, a lost state file, a copy-paste);
* outputs_missing / outputs_changed: a succeeded job's outputs no longer
  match its manifest.

`detect_drift` only reads backends and job records; the caller records the
findings (with a timestamp) in the drift table.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from batchspec.backends.registry import BackendProvider
from batchspec.plan.desired import Desired
from batchspec.reconcile.clock import Clock
from batchspec.reconcile.observe import observe
from batchspec.reconcile.outputs import check_outputs
from batchspec.reconcile.scope import Scope
from batchspec.reconcile.sync import sync
from batchspec.state.records import DriftFinding, DriftKind, JobRecord, Phase
from batchspec.state.store import StateStore


@dataclass
class DriftReport:
    """Findings of one drift check and the backends it could not list."""

    findings: list[DriftFinding] = field(default_factory=list)
    unobserved: dict[str, str] = field(default_factory=dict)


def spec_changes(current: Iterable[JobRecord], desired: Desired) -> list[DriftFinding]:
    """Declared specs whose revision differs from the job that ran for them."""
    out = []
    for record in current:
        job = desired.jobs.get(record.name)
        if job is None or record.phase is not Phase.SUBMITTED:
            continue
        if job.fingerprint != record.fingerprint:
            out.append(
                DriftFinding(
                    DriftKind.SPEC_CHANGED,
                    f"spec changed after its job ran: job ran revision {record.short_fingerprint},"
                    f" the spec is now revision {job.short_fingerprint}",
                    name=record.name,
                    job_id=record.id,
                    backend=record.backend,
                    remote_name=record.remote_name,
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
            out.append(
                DriftFinding(
                    DriftKind.OUTPUTS_MISSING if kind == "missing" else DriftKind.OUTPUTS_CHANGED,
                    detail,
                    name=record.name,
                    job_id=record.id,
                    backend=record.backend,
                    remote_name=record.remote_name,
                )
            )
    return out


def detect_drift(
    store: StateStore,
    provider: BackendProvider,
    *,
    desired: Desired | None = None,
    whole: bool = True,
    outputs: bool = True,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> DriftReport:
    """Every kind of drift within the specs' paths, selection and targets (`Scope`;
    `whole`: no paths were given); reads backends and files, changes no job."""
    scope = Scope(desired, whole=whole)
    backends = {name for name in store.tracked_backends() if scope.backend(name)}
    if desired is not None:
        backends |= {job.target.value for job in desired.jobs.values()}
    observation = observe(backends, provider, clock=clock, rng=rng)
    result = sync(store, observation, provider, actor="drift", write=False)
    findings = [
        f
        for f in result.findings
        if scope.admits(f, store.job(f.job_id) if f.job_id is not None else None)
    ]
    report = DriftReport(findings=findings, unobserved=dict(observation.failed))
    current = [r for r in store.current_jobs().values() if scope.covers(r)]
    if desired is not None:
        report.findings.extend(spec_changes(current, desired))
    if outputs:
        report.findings.extend(output_changes(current))
    return report
