"""The controller loop: convergence, retries, deadlines, capacity, cost per pass, stop."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from batchspec.errors import LeaseHeldError
from batchspec.model.enums import JobState
from batchspec.plan import desired_from, load_desired
from batchspec.plan.attempts import LABEL_ATTEMPT
from batchspec.reconcile.controller import Controller, ControllerOptions
from batchspec.state import Disposition, DriftKind, StateStore
from batchspec.testing.backend import FakeBackend, FakeJob
from batchspec.testing.clock import FakeClock
from batchspec.testing.specs import compiled, local_job, write_specs
from tests.reconcile.conftest import FAST_RETRY


def controller(store, backend, desired, clock, **options) -> Controller:
    opts = ControllerOptions(
        interval=options.pop("interval", 5.0),
        max_interval=options.pop("max_interval", 60.0),
        submit_retry=FAST_RETRY,
        observe_retry=FAST_RETRY,
        **options,
    )
    source = desired if callable(desired) else (lambda: desired)
    return Controller(
        store,
        lambda t: backend,
        source,
        actor="test",
        options=opts,
        clock=clock,
        rng=random.Random(3),
    )


def test_jobs_are_followed_to_the_end(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now, auto_advance=True, steps_per_state=2)
    desired = desired_from([compiled(f"j{i}") for i in range(5)])
    result = controller(store, backend, desired, clock).run(until_settled=True)
    assert result is not None and result.settled
    states = {r.name: r.state for r in store.current_jobs().values()}
    assert set(states.values()) == {JobState.SUCCEEDED} and backend.creates == 5
    events = [t.to_state for t in store.transitions(name="j0") if t.event == "state"]
    assert events == ["QUEUED", "RUNNING", "SUCCEEDED"]


def test_failed_jobs_are_retried_after_the_policy_backoff(
    store: StateStore, clock: FakeClock
) -> None:
    def outcome(job: FakeJob) -> JobState:
        return JobState.SUCCEEDED if job.labels.get(LABEL_ATTEMPT) == "2" else JobState.FAILED

    backend = FakeBackend(now=clock.now, auto_advance=True, outcome=outcome)
    desired = desired_from([compiled("a", max_retries=3, backoff=100)])
    loop = controller(store, backend, desired, clock)
    failed_at = None
    for _ in range(20):
        result = loop.run_pass()
        rec = store.current_jobs()["a"]
        if rec.state is JobState.FAILED and failed_at is None:
            failed_at = clock.now()
            assert [a for a, why in result.deferred if "backoff" in why]
        if result.settled:
            break
        clock.advance(30)
    assert rec.state is JobState.SUCCEEDED and rec.attempt == 2 and backend.creates == 2
    submitted = store.transitions(job_id=rec.id)[0].at
    assert 90 <= (submitted - failed_at).total_seconds() <= 140


def test_deadline_cancels_a_job_that_runs_too_long(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now, auto_advance=True, steps_per_state=1000)
    desired = desired_from([compiled("slow", deadline="1h")])
    loop = controller(store, backend, desired, clock)
    loop.run_pass()
    clock.advance(1800)
    assert not loop.run_pass().deadline_cancels
    clock.advance(1801)
    result = loop.run_pass()
    [cancelled] = result.deadline_cancels
    assert cancelled.cancel_reason == "deadline 1h exceeded (policy.deadline)"
    result = loop.run_pass()
    rec = store.current_jobs()["slow"]
    assert rec.state is JobState.CANCELLED
    assert "cancelled by batchspec (deadline 1h" in result.plan.actions[0].reason
    assert not [f for f in store.drift_events() if f.finding.kind is DriftKind.CANCELLED_OUTSIDE]


def test_concurrency_limit_holds_back_submissions(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now, auto_advance=True, steps_per_state=2)
    desired = desired_from([compiled(f"j{i}") for i in range(7)])
    loop = controller(store, backend, desired, clock, max_running=2)
    peak = 0
    for _ in range(60):
        result = loop.run_pass()
        running = [j for j in backend.jobs() if not JobState(j.state).terminal]
        peak = max(peak, len(running))
        if result.settled:
            break
    assert peak <= 2 and backend.creates == 7
    assert {r.state for r in store.current_jobs().values()} == {JobState.SUCCEEDED}


def test_a_pass_costs_one_call_per_page_not_per_job(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now, page_size=100)
    jobs = [compiled(f"j{i:04d}") for i in range(1000)]
    loop = controller(store, backend, desired_from(jobs), clock)
    loop.run_pass()
    for job in backend.jobs():
        job.state = JobState.RUNNING.value
    backend.reset_calls()
    loop.run_pass()
    assert backend.calls == {"list": 10}


def test_idle_polling_backs_off_and_resets_on_change(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now)
    stop = threading.Event()
    loop = controller(
        store,
        backend,
        desired_from([compiled("a")]),
        clock,
        interval=10,
        max_interval=40,
        jitter=0.0,
    )
    passes = []

    def on_pass(result) -> None:
        passes.append(result)
        if len(passes) == 6:
            stop.set()

    loop.stop = stop
    loop.run(on_pass=on_pass)
    assert clock.sleeps[:5] == [10, 15, 22.5, 33.75, 40]


def test_stop_event_ends_the_loop_between_actions(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now)
    stop = threading.Event()
    desired = desired_from([compiled(f"j{i}") for i in range(5)])
    loop = controller(store, backend, desired, clock)
    loop.stop = stop
    loop.executor.stop = stop
    original = backend.submit

    def submit_then_stop(job):
        stop.set()  # SIGTERM arrives during the first submit
        return original(job)

    backend.submit = submit_then_stop  # type: ignore[method-assign]
    result = loop.run()
    assert backend.creates == 1
    assert sum(o.skipped for o in result.report.outcomes) == 4
    assert store.current_jobs()["j0"].remote_name  # the started submit was recorded


def test_lost_lease_stops_the_controller(store: StateStore, clock: FakeClock) -> None:
    def guard() -> None:
        raise LeaseHeldError("lost the lease")

    loop = controller(store, FakeBackend(now=clock.now), desired_from([compiled("a")]), clock)
    loop.guard = guard
    with pytest.raises(LeaseHeldError):
        loop.run(once=True)


def test_unreadable_spec_file_never_cancels_its_jobs(
    store: StateStore, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    specs = tmp_path / "specs"
    [path] = write_specs(specs, [local_job("a", on_removal="cancel")])
    backend = FakeBackend(now=clock.now)
    loop = controller(store, backend, lambda: load_desired([str(specs)]), clock)
    loop.run_pass()
    path.write_text("apiVersion: [unclosed")
    result = loop.run_pass()
    assert backend.calls.get("cancel", 0) == 0 and not result.plan.changes
    path.unlink()
    result = loop.run_pass()
    assert [a.kind.value for a in result.plan.changes] == ["cancel"]
    assert store.all_jobs(name="a")[0].disposition is Disposition.REMOVED


def test_unavailable_backend_defers_its_actions(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now)
    backend.inject("list", *["unavailable"] * 100)
    loop = controller(store, backend, desired_from([compiled("a")]), clock)
    result = loop.run_pass()
    assert result.observation.failed and backend.creates == 0
    assert "unavailable" in result.deferred[0][1]
    backend._faults.clear()
    loop.run_pass()
    assert backend.creates == 1


def test_spec_change_is_recorded_as_drift_and_replaced(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now, auto_advance=True)
    loop = controller(store, backend, desired_from([compiled("a", batch_size=64)]), clock)
    loop.run(until_settled=True)
    loop.desired = lambda: desired_from([compiled("a", batch_size=16)])
    result = loop.run_pass()
    assert [a.kind.value for a in result.plan.changes] == ["replace"]
    kinds = [e.finding.kind for e in store.drift_events()]
    assert DriftKind.SPEC_CHANGED in kinds
    clock.advance(timedelta(minutes=1).total_seconds())


def test_jobs_on_a_blocked_backend_do_not_hold_up_the_others(
    store: StateStore, clock: FakeClock
) -> None:
    from dataclasses import replace

    from batchspec.errors import PermanentBackendError
    from batchspec.model.enums import Target

    backend = FakeBackend(auto_advance=True, now=clock.now)

    def provider(target: str):
        if target == "vertex":
            raise PermanentBackendError("backend for target 'vertex' is not available")
        return backend

    cloud = replace(compiled("cloud"), target=Target.VERTEX)
    logs: list[str] = []
    loop = Controller(
        store,
        provider,
        lambda: desired_from([compiled("here"), cloud]),
        actor="t",
        options=ControllerOptions(interval=1, submit_retry=FAST_RETRY, observe_retry=FAST_RETRY),
        clock=clock,
        rng=random.Random(1),
        log=logs.append,
    )
    result = loop.run(until_settled=True)
    assert result.settled and set(result.blocked) == {"vertex"}
    assert store.current_jobs()["here"].state is JobState.SUCCEEDED
    assert "cloud" not in store.current_jobs()  # nothing recorded for a backend that is absent
    assert sum("vertex could not be listed" in m for m in logs) == 1


def test_paused_jobs_are_submitted_again_to_resume(store: StateStore, clock: FakeClock) -> None:
    backend = FakeBackend(now=clock.now)
    loop = controller(store, backend, desired_from([compiled("a")]), clock)
    loop.run_pass()
    rec = store.current_jobs()["a"]
    backend.set_state(rec.remote_name, JobState.PAUSED)  # e.g. the local supervisor died
    result = loop.run_pass()
    assert "PAUSED" in result.plan.actions[0].reason
    [resumed] = result.resumed
    assert resumed.state is JobState.RUNNING and backend.creates == 1
    assert backend.job(rec.remote_name).state == "RUNNING"
    assert [t.event for t in store.transitions(name="a")][-2:] == ["resume_requested", "state"]


def test_a_pass_waits_its_turn_when_an_apply_holds_the_writer_lease(
    store: StateStore, clock: FakeClock
) -> None:
    import contextlib

    attempts = []

    @contextlib.contextmanager
    def pass_lock():
        attempts.append(1)
        if len(attempts) == 1:
            raise LeaseHeldError("state is locked: writer lease held by someone (batchspec apply)")
        yield lambda: None

    logs: list[str] = []
    backend = FakeBackend(now=clock.now)
    loop = Controller(
        store,
        lambda t: backend,
        lambda: desired_from([compiled("a")]),
        actor="t",
        options=ControllerOptions(interval=5, submit_retry=FAST_RETRY, observe_retry=FAST_RETRY),
        clock=clock,
        rng=random.Random(1),
        log=logs.append,
        pass_lock=pass_lock,
    )
    result = loop.run(once=True)
    assert len(attempts) == 2 and backend.creates == 1 and result is not None
    assert any(m.startswith("pass skipped: state is locked") for m in logs)
