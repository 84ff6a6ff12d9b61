"""Applying plans: every action kind, and exactly-once submission under faults."""

from __future__ import annotations

import pytest

from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT
from batchspec.plan import ActionKind, desired_from
from batchspec.plan.attempts import LABEL_ATTEMPT, key_label, submit_key
from batchspec.reconcile.apply import ApplyContext, apply_desired
from batchspec.state import Disposition, Phase, StateStore
from batchspec.testing.backend import FakeBackend
from batchspec.testing.specs import compiled


def names(result) -> dict[str, str]:
    return {o.action.name: o.action.kind.value for o in result.report.outcomes}


def test_create_records_the_job_and_submits_once(ctx: ApplyContext, backend: FakeBackend) -> None:
    result = apply_desired(ctx, desired_from([compiled("a"), compiled("b")]))
    assert result.ok and names(result) == {"a": "create", "b": "create"}
    assert backend.creates == 2
    current = ctx.store.current_jobs()
    assert {r.phase for r in current.values()} == {Phase.SUBMITTED}
    assert current["a"].remote_name == backend.jobs()[0].remote_name
    # applying again changes nothing
    again = apply_desired(ctx, desired_from([compiled("a"), compiled("b")]))
    assert not again.plan.has_changes and backend.creates == 2


@pytest.mark.parametrize("faults", [["throttled"], ["unavailable", "throttled", "unavailable"]])
def test_429_and_503_on_submit_are_retried_with_backoff(
    ctx: ApplyContext, backend: FakeBackend, clock, faults: list[str]
) -> None:
    backend.inject("submit", *faults)
    assert apply_desired(ctx, desired_from([compiled("a")])).ok
    assert backend.creates == 1 and backend.calls["submit"] == len(faults) + 1
    assert len(clock.sleeps) == len(faults)


@pytest.mark.parametrize("idempotent", [True, False])
@pytest.mark.parametrize("fault", ["timeout", "timeout_created"])
def test_timeouts_on_submit_never_duplicate(
    ctx: ApplyContext, backend: FakeBackend, idempotent: bool, fault: str
) -> None:
    backend.idempotent = idempotent
    backend.inject("submit", fault)
    result = apply_desired(ctx, desired_from([compiled("a")]))
    assert result.ok
    assert backend.creates == 1
    rec = ctx.store.current_jobs()["a"]
    assert rec.remote_name == backend.jobs()[0].remote_name
    events = [t.event for t in ctx.store.transitions(name="a")]
    assert events[:2] == ["intent", "submitted"]


def test_retries_give_up_at_the_deadline_and_the_next_run_finishes(
    ctx: ApplyContext, backend: FakeBackend
) -> None:
    backend.inject("submit", *["unavailable"] * 50)
    result = apply_desired(ctx, desired_from([compiled("a")]))
    assert not result.ok and "gave up" in result.report.failed[0].message
    assert ctx.store.current_jobs()["a"].in_doubt
    backend._faults.clear()
    result = apply_desired(ctx, desired_from([compiled("a")]))
    assert result.ok and backend.creates == 1


def test_a_stop_request_ends_the_wait_between_retries(
    ctx: ApplyContext, backend: FakeBackend, clock
) -> None:
    """SIGTERM during a backoff: no further attempt, the intent stays for the next run."""
    import dataclasses
    import threading

    stop = threading.Event()
    waits: list[float] = []

    class SignalledClock(type(clock)):
        def sleep(self, seconds, stop=None):  # SIGTERM arrives during the first wait
            waits.append(seconds)
            assert stop is not None
            stop.set()
            return True

    stopping = dataclasses.replace(ctx, clock=SignalledClock(), stop=stop)
    backend.inject("submit", *["unavailable"] * 5)
    result = apply_desired(stopping, desired_from([compiled("a")]))
    (failed,) = result.report.failed
    assert "stopped while retrying after 1 attempt" in failed.message
    assert backend.calls["submit"] == 1 and len(waits) == 1
    assert ctx.store.current_jobs()["a"].in_doubt


def test_permanent_rejection_is_recorded_as_a_failed_attempt(
    ctx: ApplyContext, backend: FakeBackend
) -> None:
    backend.inject("submit", "permanent")
    result = apply_desired(ctx, desired_from([compiled("a", max_retries=1)]))
    assert not result.ok and "400" in result.report.failed[0].message
    rec = ctx.store.current_jobs()["a"]
    assert rec.state is JobState.FAILED and not rec.in_doubt and backend.creates == 0
    again = apply_desired(ctx, desired_from([compiled("a", max_retries=1)]))
    assert names(again) == {"a": "resubmit"} and again.ok and backend.creates == 1


def test_replace_cancels_the_running_job_and_submits_the_new_revision(
    ctx: ApplyContext, backend: FakeBackend
) -> None:
    apply_desired(ctx, desired_from([compiled("a", batch_size=64)]))
    old = ctx.store.current_jobs()["a"]
    result = apply_desired(ctx, desired_from([compiled("a", batch_size=32)]))
    assert names(result) == {"a": "replace"} and result.ok
    assert backend.job(old.remote_name).state == "CANCELLING"
    old = ctx.store.job(old.id)
    assert old.disposition is Disposition.SUPERSEDED and old.cancel_reason.startswith("replaced")
    new = ctx.store.current_jobs()["a"]
    assert new.fingerprint == compiled("a", batch_size=32).fingerprint and backend.creates == 2


def test_resubmit_uses_a_new_attempt_key(ctx: ApplyContext, backend: FakeBackend) -> None:
    job = compiled("a", max_retries=2)
    apply_desired(ctx, desired_from([job]))
    first = ctx.store.current_jobs()["a"]
    backend.set_state(first.remote_name, JobState.FAILED)
    result = apply_desired(ctx, desired_from([job]))
    assert names(result) == {"a": "resubmit"}
    second = ctx.store.current_jobs()["a"]
    assert second.attempt == 2 and second.retry == 1
    assert second.submit_key == submit_key(job.fingerprint, 2) != first.submit_key
    labels = backend.job(second.remote_name).labels
    assert labels[LABEL_FINGERPRINT] == key_label(second.submit_key)
    assert labels[LABEL_ATTEMPT] == "2"
    assert ctx.store.job(first.id).disposition is Disposition.SUPERSEDED
    assert backend.creates == 2


def test_removed_spec_is_cancelled_or_forgotten(
    ctx: ApplyContext, backend: FakeBackend, tmp_path
) -> None:
    specs = tmp_path / "specs"
    stop = compiled("stop", on_removal="cancel", source=specs / "stop.yaml")
    keep = compiled("keep", source=specs / "keep.yaml")
    apply_desired(ctx, desired_from([stop, keep], scope=[specs]))
    result = apply_desired(ctx, desired_from([], scope=[specs]))
    assert names(result) == {"stop": "cancel", "keep": "forget"} and result.ok
    stopped = ctx.store.all_jobs(name="stop")[0]
    assert stopped.disposition is Disposition.REMOVED and stopped.cancel_requested_at
    assert backend.job(stopped.remote_name).state == "CANCELLING"
    kept = ctx.store.all_jobs(name="keep")[0]
    assert kept.disposition is Disposition.FORGOTTEN
    assert backend.job(kept.remote_name).state == "QUEUED"
    assert backend.calls["cancel"] == 1


def test_interrupted_submit_is_adopted_not_duplicated(
    ctx: ApplyContext, backend: FakeBackend
) -> None:
    backend.idempotent = False
    job = compiled("a")
    # an earlier run recorded the intent, submitted, and died before recording
    ctx.store.record_intent(job, submit_key=job.fingerprint, attempt=1, actor="t", reason="n")
    backend.submit(job)
    result = apply_desired(ctx, desired_from([job]))
    assert names(result) == {"a": "create"} and "adopted" in result.report.outcomes[0].message
    assert backend.creates == 1


def test_replace_of_an_interrupted_submit(ctx: ApplyContext, backend: FakeBackend) -> None:
    job = compiled("a", batch_size=64)
    never = ctx.store.record_intent(
        job, submit_key=job.fingerprint, attempt=1, actor="t", reason="n"
    )
    result = apply_desired(ctx, desired_from([compiled("a", batch_size=8)]))
    assert names(result) == {"a": "replace"} and result.ok
    assert ctx.store.job(never.id).disposition is Disposition.FORGOTTEN
    assert backend.creates == 1


def test_a_failing_action_does_not_stop_the_others(ctx: ApplyContext, backend: FakeBackend) -> None:
    backend.inject("submit", "permanent")
    result = apply_desired(ctx, desired_from([compiled("a"), compiled("b")]))
    assert len(result.report.failed) == 1 and len(result.report.done) == 1


def test_apply_with_spec_errors_runs_nothing(ctx: ApplyContext, backend: FakeBackend) -> None:
    from batchspec.plan.desired import Problem

    desired = desired_from([compiled("a")])
    desired.problems.append(Problem("b", "does not compile"))
    result = apply_desired(ctx, desired)
    assert result.plan.has_errors and not result.report.outcomes and backend.creates == 0


def test_adopts_a_job_created_earlier_by_fingerprint_not_by_name(
    ctx: ApplyContext, backend: FakeBackend, store: StateStore
) -> None:
    backend.idempotent = False
    job = compiled("a")
    backend.create_outside(job)  # e.g. the state file was lost after a submit
    result = apply_desired(ctx, desired_from([job]))
    assert result.plan.actions[0].kind is ActionKind.CREATE
    assert "adopts existing job" in result.plan.actions[0].reason
    assert backend.creates == 1 and store.current_jobs()["a"].remote_name


def test_unlistable_backend_fails_the_action_before_any_intent(
    ctx: ApplyContext, backend: FakeBackend
) -> None:
    backend.inject("list", *["unavailable"] * 200)
    result = apply_desired(ctx, desired_from([compiled("a")]))
    [failed] = result.report.failed
    assert "could not be listed" in failed.message and "nothing was submitted" in failed.message
    assert backend.calls.get("submit", 0) == 0 and ctx.store.current_jobs() == {}


def test_one_remote_job_cannot_be_recorded_twice(ctx: ApplyContext, backend: FakeBackend) -> None:
    from batchspec.errors import StateError

    apply_desired(ctx, desired_from([compiled("a")]))
    taken = ctx.store.current_jobs()["a"]
    other = ctx.store.record_intent(
        compiled("b"), submit_key="kb", attempt=1, actor="t", reason="n"
    )
    remote = backend.get(taken.remote_name)
    with pytest.raises(StateError, match="already recorded for job"):
        ctx.store.record_submitted(other.id, remote, actor="t")
