"""Planning: every action kind with its reason, scope rules, refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchspec.model.enums import JobState
from batchspec.plan import ActionKind, Observation, PlanOptions, build_plan, desired_from
from batchspec.plan.desired import Desired
from batchspec.state import StateStore
from batchspec.testing.specs import compiled
from batchspec.testing.state import record_job, remote

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store() -> StateStore:
    return StateStore.memory(now=lambda: NOW)


def plan_for(store: StateStore, desired: Desired, observation: Observation | None = None, **kw):
    return build_plan(
        desired,
        store.snapshot(),
        observation,
        revisions=store.revisions,
        options=PlanOptions(now=NOW, **kw),
    )


def only(plan, name: str):
    [action] = [a for a in plan.actions if a.name == name]
    return action


def test_new_spec_is_created(store: StateStore) -> None:
    plan = plan_for(store, desired_from([compiled("a")]))
    action = only(plan, "a")
    assert action.kind is ActionKind.CREATE and action.reason == "new job"
    assert plan.has_changes and plan.counts()[ActionKind.CREATE] == 1


def test_unchanged_running_and_succeeded_jobs_are_noops(store: StateStore) -> None:
    a, b = compiled("a"), compiled("b")
    record_job(store, a, JobState.RUNNING)
    record_job(store, b, JobState.SUCCEEDED)
    plan = plan_for(store, desired_from([a, b]))
    assert [x.kind for x in plan.actions] == [ActionKind.NOOP, ActionKind.NOOP]
    assert only(plan, "a").reason.startswith("RUNNING")
    assert only(plan, "b").reason.startswith("SUCCEEDED")
    assert not plan.has_changes


def test_changed_spec_is_replaced_and_shows_the_old_body(store: StateStore) -> None:
    old = compiled("a", batch_size=64)
    record_job(store, old, JobState.RUNNING)
    new = compiled("a", batch_size=128)
    action = only(plan_for(store, desired_from([new])), "a")
    assert action.kind is ActionKind.REPLACE
    assert old.short_fingerprint in action.reason and new.short_fingerprint in action.reason
    assert any("cancels the running job" in n for n in action.notes)
    assert action.before_body["spec"]["resources"]["batchSize"] == 64


def test_replace_requested_by_flag(store: StateStore) -> None:
    a = compiled("a")
    record_job(store, a, JobState.SUCCEEDED)
    action = only(plan_for(store, desired_from([a]), replace={"a"}), "a")
    assert action.kind is ActionKind.REPLACE and "--replace" in action.reason
    assert action.notes == ()


def test_interrupted_submit_is_planned_as_a_create_that_adopts(store: StateStore) -> None:
    a = compiled("a")
    record_job(store, a, None)
    action = only(plan_for(store, desired_from([a])), "a")
    assert action.kind is ActionKind.CREATE and "interrupted" in action.reason
    assert action.previous is not None and action.previous.in_doubt


def test_failed_job_is_resubmitted_with_backoff_until_retries_run_out(store: StateStore) -> None:
    a = compiled("a", max_retries=2, backoff=60)
    rec = record_job(store, a, JobState.FAILED)
    action = only(plan_for(store, desired_from([a])), "a")
    assert action.kind is ActionKind.RESUBMIT
    assert "attempt 1 of 3" in action.reason and "allows 2 more" in action.reason
    assert action.not_before is not None
    delay = (action.not_before - rec.ended_at).total_seconds()
    assert 54 <= delay <= 66
    # the second retry waits twice as long
    second = record_job(store, a, JobState.FAILED, retry=1, supersede=rec.id)
    action = only(plan_for(store, desired_from([a])), "a")
    assert action.kind is ActionKind.RESUBMIT
    assert 108 <= (action.not_before - second.ended_at).total_seconds() <= 132
    third = record_job(store, a, JobState.FAILED, retry=2, supersede=second.id)
    action = only(plan_for(store, desired_from([a])), "a")
    assert action.kind is ActionKind.NOOP and "no retries left" in action.reason
    assert third.attempt == 3


def test_cancelled_jobs_are_left_alone_with_the_reason(store: StateStore) -> None:
    a, b = compiled("a"), compiled("b")
    rec = record_job(store, a, JobState.RUNNING)
    store.record_cancel_requested(rec.id, reason="deadline 1h exceeded", actor="t")
    store.record_observed(rec.id, remote(a, rec.remote_name, JobState.CANCELLED), actor="t")
    record_job(store, b, JobState.CANCELLED)
    plan = plan_for(store, desired_from([a, b]))
    assert only(plan, "a").kind is ActionKind.NOOP
    assert "cancelled by batchspec (deadline 1h exceeded)" in only(plan, "a").reason
    assert "cancelled outside batchspec" in only(plan, "b").reason
    assert "--replace b" in only(plan, "b").reason


def test_removed_specs_are_cancelled_or_forgotten_per_policy(
    store: StateStore, tmp_path: Path
) -> None:
    specs = tmp_path / "specs"
    keep = compiled("keep", source=specs / "keep.yaml")
    stop = compiled("stop", on_removal="cancel", source=specs / "stop.yaml")
    done = compiled("done", on_removal="cancel", source=specs / "done.yaml")
    record_job(store, keep, JobState.RUNNING)
    record_job(store, stop, JobState.RUNNING)
    record_job(store, done, JobState.SUCCEEDED)
    plan = plan_for(store, desired_from([], scope=[specs]))
    assert only(plan, "stop").kind is ActionKind.CANCEL
    assert "onRemoval is cancel" in only(plan, "stop").reason
    assert only(plan, "keep").kind is ActionKind.FORGET
    assert "keeps running" in only(plan, "keep").reason
    assert only(plan, "done").kind is ActionKind.FORGET
    assert "ended SUCCEEDED" in only(plan, "done").reason


def test_removals_only_within_scope_and_never_for_broken_files(
    store: StateStore, tmp_path: Path
) -> None:
    specs, other = tmp_path / "specs", tmp_path / "other"
    a = compiled("a", on_removal="cancel", source=specs / "a.yaml")
    b = compiled("b", on_removal="cancel", source=other / "b.yaml")
    c = compiled("c", on_removal="cancel", source=specs / "c.yaml")
    for job in (a, b, c):
        record_job(store, job, JobState.RUNNING)
    desired = desired_from([], scope=[specs])
    desired.blocked_files = frozenset({(specs / "c.yaml").resolve()})
    plan = plan_for(store, desired)
    assert [x.name for x in plan.actions] == ["a"]
    selected = desired_from([], scope=[specs, other])
    selected.select = ("b*",)
    assert [x.name for x in plan_for(store, selected).actions] == ["b"]


def test_refresh_uses_what_the_backend_reports(store: StateStore) -> None:
    a = compiled("a", max_retries=1)
    b = compiled("b")
    ra = record_job(store, a, JobState.RUNNING)
    rb = record_job(store, b, JobState.RUNNING)
    failed = remote(a, ra.remote_name, JobState.FAILED, end_time=NOW - timedelta(hours=1))
    observation = Observation.of({"local": [failed]})
    plan = plan_for(store, desired_from([a, b]), observation)
    assert only(plan, "a").kind is ActionKind.RESUBMIT
    assert only(plan, "b").kind is ActionKind.CREATE
    assert "deleted outside batchspec" in only(plan, "b").reason
    assert only(plan, "b").previous.id == rb.id
    assert plan.refreshed


def test_a_job_in_a_location_that_was_not_listed_keeps_its_recorded_state(
    store: StateStore,
) -> None:
    """Only `here` was listed (`there` failed, or nobody asked): a job living
    there is planned from state, never taken for deleted."""
    here, there = "projects/p/locations/here", "projects/p/locations/there"
    a, b = compiled("a"), compiled("b")
    record_job(store, a, JobState.RUNNING, remote_name=f"{here}/batchPredictionJobs/1")
    record_job(store, b, JobState.RUNNING, remote_name=f"{there}/batchPredictionJobs/2")
    observation = Observation()
    observation.add("local", [], here)
    observation.fail("local", "503 Service Unavailable", location=there)
    plan = plan_for(store, desired_from([a, b]), observation)
    assert only(plan, "a").kind is ActionKind.CREATE  # listed where it lives: gone
    assert only(plan, "b").kind is ActionKind.NOOP
    assert observation.unlisted("local", f"{there}/batchPredictionJobs/2") is not None
    assert observation.unlisted("local", f"{here}/batchPredictionJobs/1") is None
    assert plan.unobserved == {"local": f"{there}: 503 Service Unavailable"}


def test_create_reports_adoption_of_a_job_found_by_fingerprint(store: StateStore) -> None:
    a = compiled("a")
    observation = Observation.of({"local": [remote(a, "local-jobs/x", JobState.RUNNING)]})
    action = only(plan_for(store, desired_from([a]), observation), "a")
    assert action.kind is ActionKind.CREATE and "adopts existing job local-jobs/x" in action.reason


def test_summary_lists_every_kind(store: StateStore) -> None:
    plan = plan_for(store, desired_from([compiled("a"), compiled("b")]))
    assert plan.summary() == (
        "2 to create, 0 to replace, 0 to resubmit, 0 to cancel, 0 to forget, 0 unchanged"
    )
