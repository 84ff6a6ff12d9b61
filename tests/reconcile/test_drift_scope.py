"""`drift` honours PATHS, --select and --target for every kind of finding, as
`plan` does: jobs changed or deleted outside, unknown jobs, changed specs and
changed outputs outside what the command was pointed at are neither reported
nor recorded, and backends outside --target are not even listed."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from batchspec.model.enums import JobState
from batchspec.plan import load_desired
from batchspec.reconcile.controller import Controller, ControllerOptions
from batchspec.reconcile.drift import detect_drift
from batchspec.state import DriftKind, StateStore
from batchspec.testing.backend import FakeBackend
from batchspec.testing.clock import FakeClock
from batchspec.testing.specs import compiled, local_job, spec_doc, write_specs
from tests.reconcile.conftest import FAST_RETRY


@pytest.fixture
def world(store: StateStore, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Team a (a1, a2) and team b (b1) on the local backend, v1 on Vertex AI, all
    succeeded; then each drifts in its own way, and a stranger appears."""
    monkeypatch.chdir(tmp_path)
    write_specs(tmp_path / "specs/a", [local_job("a1"), local_job("a2")])
    write_specs(tmp_path / "specs/b", [local_job("b1")])
    write_specs(tmp_path / "specs/v", [spec_doc("v1", "vertex")])
    backends = {
        name: FakeBackend(name, auto_advance=True, output_root=tmp_path / name, now=clock.now)
        for name in ("local", "vertex")
    }
    loop = Controller(
        store,
        lambda t: backends[t],
        lambda: load_desired(["specs"]),
        actor="test",
        options=ControllerOptions(submit_retry=FAST_RETRY, observe_retry=FAST_RETRY),
        clock=clock,
        rng=random.Random(1),
    )
    loop.run(until_settled=True)
    current = store.current_jobs()
    local, vertex = backends["local"], backends["vertex"]
    local.auto_advance = vertex.auto_advance = False
    local.set_state(current["a1"].remote_name, JobState.RUNNING)  # changed outside
    write_specs(tmp_path / "specs/a", [local_job("a2", batch_size=7)])  # spec changed
    results = Path(current["b1"].output_location) / "prediction.results-00000-of-00001"
    results.unlink()  # outputs missing
    vertex.delete_outside(current["v1"].remote_name)  # deleted outside
    local.create_outside(compiled("stranger"))  # unknown job
    return backends


def found(store: StateStore, backends, *paths: str, select=(), targets=()):
    desired = load_desired(list(paths) or ["specs"], select=select, targets=targets)
    for backend in backends.values():
        backend.reset_calls()
    report = detect_drift(
        store, lambda t: backends[t], desired=desired, whole=not paths, clock=FakeClock()
    )
    out: dict[str, set[DriftKind]] = {}
    for f in report.findings:
        out.setdefault(f.name, set()).add(f.kind)
    return out


ALL = {
    "a1": {DriftKind.CHANGED_OUTSIDE},
    "a2": {DriftKind.SPEC_CHANGED},
    "b1": {DriftKind.OUTPUTS_MISSING},
    "v1": {DriftKind.DELETED_OUTSIDE},
    "stranger": {DriftKind.UNKNOWN_JOB},
}


def test_the_whole_folder_reports_every_kind(store: StateStore, world) -> None:
    assert found(store, world) == ALL


def test_paths_limit_every_kind(store: StateStore, world) -> None:
    assert found(store, world, "specs/a") == {k: ALL[k] for k in ("a1", "a2")}
    assert found(store, world, "specs/b/b1.yaml") == {"b1": ALL["b1"]}


def test_select_limits_every_kind(store: StateStore, world) -> None:
    assert found(store, world, select=["b*", "v*"]) == {k: ALL[k] for k in ("b1", "v1")}
    assert found(store, world, select=["str*"]) == {"stranger": ALL["stranger"]}


def test_target_limits_every_kind_and_what_is_listed(store: StateStore, world) -> None:
    assert found(store, world, targets=["vertex"]) == {"v1": ALL["v1"]}
    assert world["local"].calls["list"] == 0
    local = found(store, world, targets=["local"])
    assert local == {k: ALL[k] for k in ("a1", "a2", "b1", "stranger")}
    assert world["vertex"].calls["list"] == 0
