"""Drift: what no longer matches the specs or what batchspec recorded.

Kept apart from health on purpose: a FAILED job is a health problem the
controller handles with retries; drift is a change nobody declared. Kinds:

* spec_changed: the declared spec's revision differs from the job that ran;
* cancelled_outside / deleted_outside / changed_outside: someone touched the
  job at the service (console, gcloud, another tool);
* unknown_job: a job carries batchspec's labels but this state never
  recorded it (another state file, a lost state file, a copy-paste);
* outputs_missing / outputs_changed: a succeeded job's outputs no longer
  match its manifest;
* missed_ticks / unfinished_run: a recurring spec's tick was missed (past
  its startingDeadline, beyond catchUp, or with no controller running) or
  a run was still unfinished when a later tick came.

`detect_drift` only reads backends and job records; the caller records the
findings (with a timestamp) in the drift table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from batchspec.backends.registry import BackendProvider
from batchspec.plan.desired import Desired
from batchspec.reconcile.clock import Clock
from batchspec.reconcile.findings import output_changes, run_changes, spec_changes
from batchspec.reconcile.selection import Selection
from batchspec.reconcile.step import Step, reconcile_step
from batchspec.state.records import DriftFinding
from batchspec.state.store import StateStore


@dataclass
class DriftReport:
    """Findings of one drift check and the backends it could not list."""

    findings: list[DriftFinding] = field(default_factory=list)
    unobserved: dict[str, str] = field(default_factory=dict)


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
    """Every kind of drift within the specs' paths, selection and targets
    (`Selection`; `whole`: no paths were given); reads backends and files,
    changes no job."""
    chosen = Selection(desired, whole=whole)
    read_only = Step(write=False, record_drift=False, plan=None, backends=chosen.backends)
    step = reconcile_step(store, provider, desired, read_only, actor="drift", clock=clock, rng=rng)
    findings = [
        f
        for f in step.findings
        if chosen.admits(f, store.job(f.job_id) if f.job_id is not None else None)
    ]
    report = DriftReport(findings=findings, unobserved=dict(step.observation.failed))
    if outputs:
        covered = [r for r in store.current_jobs().values() if chosen.covers(r)]
        report.findings.extend(output_changes(covered))
    now = clock.now() if clock is not None else store.now()
    report.findings.extend(
        f
        for f in run_changes(store, now, desired)
        if chosen.admits(f, store.job(f.job_id) if f.job_id is not None else None)
    )
    return report


__all__ = ["DriftReport", "detect_drift", "output_changes", "spec_changes"]
