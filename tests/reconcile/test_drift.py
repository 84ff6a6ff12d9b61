"""Drift: every kind is detected, recorded with a timestamp, and kept apart from health."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from batchspec.model.enums import JobState
from batchspec.plan import desired_from
from batchspec.reconcile.controller import Controller, ControllerOptions
from batchspec.reconcile.drift import detect_drift
from batchspec.state import DriftKind, StateStore
from batchspec.testing.backend import FakeBackend
from batchspec.testing.clock import FakeClock
from batchspec.testing.specs import compiled
from tests.reconcile.conftest import FAST_RETRY


@pytest.fixture
def world(store: StateStore, clock: FakeClock, tmp_path: Path):
    backend = FakeBackend(auto_advance=True, output_root=tmp_path / "out", now=clock.now)
    jobs = [compiled(n) for n in ("done", "busy", "gone", "relabelled")]
    loop = Controller(
        store,
        lambda t: backend,
        lambda: desired_from(jobs),
        actor="test",
        options=ControllerOptions(submit_retry=FAST_RETRY, observe_retry=FAST_RETRY),
        clock=clock,
        rng=random.Random(1),
    )
    loop.run(until_settled=True)
    backend.auto_advance = False
    return backend, jobs


def kinds(report) -> dict[str, set[DriftKind]]:
    out: dict[str, set[DriftKind]] = {}
    for f in report.findings:
        out.setdefault(f.name, set()).add(f.kind)
    return out


def detect(store, backend, desired=None):
    return detect_drift(store, lambda t: backend, desired=desired, clock=FakeClock())


def test_no_drift_right_after_convergence(store: StateStore, world) -> None:
    backend, jobs = world
    assert detect(store, backend, desired_from(jobs)).findings == []


def test_changes_made_outside_batchspec(store: StateStore, world) -> None:
    backend, jobs = world
    current = store.current_jobs()
    backend.set_state(current["busy"].remote_name, JobState.RUNNING)  # ended job runs again
    backend.delete_outside(current["gone"].remote_name)
    backend.relabel_outside(current["relabelled"].remote_name, {"batchspec-fp": "f" * 63})
    backend.create_outside(compiled("stranger"))
    serial = store.serial
    report = detect(store, backend, desired_from(jobs))
    found = kinds(report)
    assert found["busy"] == {DriftKind.CHANGED_OUTSIDE}
    assert found["gone"] == {DriftKind.DELETED_OUTSIDE}
    assert found["relabelled"] == {DriftKind.CHANGED_OUTSIDE}
    assert found["stranger"] == {DriftKind.UNKNOWN_JOB}
    assert store.serial == serial  # read-only: no job record changed


def test_cancelled_outside_is_drift_but_a_failed_job_is_not(
    store: StateStore, clock: FakeClock
) -> None:
    backend = FakeBackend(now=clock.now)
    jobs = [compiled("a"), compiled("b")]
    loop = Controller(
        store,
        lambda t: backend,
        lambda: desired_from(jobs),
        actor="t",
        options=ControllerOptions(submit_retry=FAST_RETRY, observe_retry=FAST_RETRY),
        clock=clock,
    )
    loop.run_pass()
    current = store.current_jobs()
    backend.cancel_outside(current["a"].remote_name)
    backend.set_state(current["b"].remote_name, JobState.FAILED)
    loop.run_pass()
    recorded = {(e.finding.name, e.finding.kind) for e in store.drift_events()}
    assert recorded == {("a", DriftKind.CANCELLED_OUTSIDE)}
    event = store.drift_events()[0]
    assert event.first_seen == clock.now()


def test_spec_changed_after_its_job_ran(store: StateStore, world) -> None:
    backend, jobs = world
    changed = [compiled("done", batch_size=7), *jobs[1:]]
    report = detect(store, backend, desired_from(changed))
    assert kinds(report) == {"done": {DriftKind.SPEC_CHANGED}}
    assert "spec changed after its job ran" in report.findings[0].detail


def test_outputs_missing_or_changed_after_success(store: StateStore, world) -> None:
    backend, jobs = world
    current = store.current_jobs()
    assert current["done"].manifest_sha256  # remembered when the job succeeded
    done = Path(current["done"].output_location)
    results = done / "prediction.results-00000-of-00001"
    results.write_text(results.read_text().replace("k0", "kX"))
    (Path(current["busy"].output_location) / "prediction.results-00000-of-00001").unlink()
    gone = Path(current["gone"].output_location)
    for f in gone.iterdir():
        f.unlink()
    gone.rmdir()
    relabelled = Path(current["relabelled"].output_location) / "batchspec-manifest.json"
    manifest = json.loads(relabelled.read_text())
    manifest["counts"]["completed"] = 99
    relabelled.write_text(json.dumps(manifest))
    report = detect(store, backend, desired_from(jobs))
    found = kinds(report)
    assert found == {
        "done": {DriftKind.OUTPUTS_CHANGED},
        "busy": {DriftKind.OUTPUTS_MISSING},
        "gone": {DriftKind.OUTPUTS_MISSING},
        "relabelled": {DriftKind.OUTPUTS_CHANGED},
    }
    details = {f.name: f.detail for f in report.findings}
    assert "sha256 differs" in details["done"] or "size differs" in details["done"]
    assert "rewritten" in details["relabelled"]


def test_a_deleted_job_is_confirmed_once_not_every_pass(
    store: StateStore, clock: FakeClock
) -> None:
    backend = FakeBackend(now=clock.now)
    loop = Controller(
        store,
        lambda t: backend,
        lambda: desired_from([compiled("a")]),
        actor="t",
        options=ControllerOptions(submit_retry=FAST_RETRY, observe_retry=FAST_RETRY),
        clock=clock,
    )
    loop.run_pass()
    rec = store.current_jobs()["a"]
    backend.set_state(rec.remote_name, JobState.SUCCEEDED)
    loop.run_pass()
    backend.delete_outside(rec.remote_name)
    backend.reset_calls()
    loop.run_pass()
    loop.run_pass()
    assert backend.calls.get("get") == 1
    assert store.current_jobs()["a"].missing_since is not None
    [event] = store.drift_events()
    assert event.finding.kind is DriftKind.DELETED_OUTSIDE and event.times_seen == 2
