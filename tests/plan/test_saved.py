"""Saved plans: round trip, refusal when state moved, tampering, other state files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchspec.errors import PlanError
from batchspec.model.enums import JobState
from batchspec.plan import ActionKind, build_plan, desired_from
from batchspec.plan.desired import Problem
from batchspec.plan.saved import is_plan_file, load_plan, save_plan
from batchspec.state import StateStore
from batchspec.testing.specs import compiled
from batchspec.testing.state import record_job


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    s = StateStore.open(tmp_path / "state.db")
    yield s
    s.close()


def plan_of(store: StateStore, jobs):
    return build_plan(desired_from(jobs), store.snapshot(), revisions=store.revisions)


def test_saved_plan_round_trips_exactly(store: StateStore, tmp_path: Path) -> None:
    old = record_job(store, compiled("b", batch_size=64), JobState.SUCCEEDED)
    plan = plan_of(store, [compiled("a"), compiled("b", batch_size=8)])
    path = save_plan(plan, tmp_path / "plan.json")
    assert is_plan_file(path)
    loaded = load_plan(path, store)
    assert [(a.kind, a.name, a.reason) for a in loaded.actions] == [
        (a.kind, a.name, a.reason) for a in plan.actions
    ]
    replace = next(a for a in loaded.actions if a.kind is ActionKind.REPLACE)
    assert replace.previous.id == old.id
    assert replace.job.fingerprint == compiled("b", batch_size=8).fingerprint
    assert replace.job.spec == compiled("b", batch_size=8).spec
    assert dict(replace.job.body) == dict(compiled("b", batch_size=8).body)


def test_plan_is_refused_when_state_moved(store: StateStore, tmp_path: Path) -> None:
    path = save_plan(plan_of(store, [compiled("a")]), tmp_path / "plan.json")
    record_job(store, compiled("x"), JobState.RUNNING)
    with pytest.raises(PlanError, match="state changed since") as info:
        load_plan(path, store)
    assert "new plan" in (info.value.hint or "")


def test_plan_for_another_state_file_is_refused(store: StateStore, tmp_path: Path) -> None:
    path = save_plan(plan_of(store, [compiled("a")]), tmp_path / "plan.json")
    with (
        StateStore.open(tmp_path / "other.db") as other,
        pytest.raises(PlanError, match="another state file"),
    ):
        load_plan(path, other)


def test_edited_plan_is_refused(store: StateStore, tmp_path: Path) -> None:
    path = save_plan(plan_of(store, [compiled("a")]), tmp_path / "plan.json")
    data = json.loads(path.read_text())
    data["actions"][0]["job"]["body"]["spec"]["resources"]["batchSize"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(PlanError, match="modified"):
        load_plan(path, store)


def test_plan_with_errors_is_refused(store: StateStore, tmp_path: Path) -> None:
    plan = plan_of(store, [compiled("a")])
    plan.problems.append(Problem("z", "does not compile"))
    path = save_plan(plan, tmp_path / "plan.json")
    with pytest.raises(PlanError, match="has errors"):
        load_plan(path, store)


def test_not_a_plan(store: StateStore, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    assert not is_plan_file(path)
    with pytest.raises(PlanError, match="not a batchspec plan"):
        load_plan(path, store)
    path.write_text("{")
    with pytest.raises(PlanError, match="cannot read plan"):
        load_plan(path, store)
