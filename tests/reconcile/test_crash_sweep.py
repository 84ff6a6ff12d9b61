"""Crash anywhere during an apply of 50 jobs, run again: each job exactly once.

In-process and exhaustive: the backend double raises SimulatedCrash (a
BaseException nothing in batchspec catches) at the k-th call of a point, the
store is closed without any cleanup beyond what SQLite does for a dead
process (uncommitted transactions vanish), and a fresh apply follows. The
double is *not* idempotent here, so only batchspec's own intent records and
list-before-create keep submissions exactly-once. `test_kill9.py` does the
same with real processes and SIGKILL.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT
from batchspec.plan import desired_from
from batchspec.plan.attempts import LABEL_ATTEMPT
from batchspec.reconcile.apply import ApplyContext, apply_desired
from batchspec.reconcile.controller import Controller, ControllerOptions
from batchspec.state import Phase, StateStore
from batchspec.testing.backend import FakeBackend, ListingBackend, SimulatedCrash
from batchspec.testing.clock import FakeClock
from batchspec.testing.service import FakeJob
from batchspec.testing.specs import compiled
from tests.reconcile.conftest import FAST_RETRY

JOBS = [compiled(f"job_{i:02d}") for i in range(50)]
POINTS = [
    *(("submit", k) for k in (1, 2, 17, 33, 49, 50)),
    *(("submit.created", k) for k in (1, 2, 17, 33, 50)),
    ("list", 1),
]


def apply_once(path: Path, backend: FakeBackend, clock: FakeClock):
    store = StateStore.open(path, now=clock.now)
    ctx = ApplyContext(store, lambda t: backend, "test", clock, random.Random(1), FAST_RETRY)
    try:
        return apply_desired(ctx, desired_from(JOBS))
    finally:
        store.close()


@pytest.mark.parametrize(("point", "hit"), POINTS, ids=[f"{p}#{k}" for p, k in POINTS])
def test_crash_then_rerun_submits_every_job_exactly_once(
    tmp_path: Path, point: str, hit: int
) -> None:
    crash_and_recover(tmp_path, FakeBackend(idempotent=False, page_size=7), point, hit)


# With a backend that can create without a look-up (as Vertex AI's), apply lists
# once and then only creates: the intents and that one listing must do it all.
CREATE_POINTS = [
    *(("create", k) for k in (1, 17, 50)),
    *(("create.created", k) for k in (1, 2, 17, 33, 50)),
    ("list", 1),
]


@pytest.mark.parametrize(
    ("point", "hit"), CREATE_POINTS, ids=[f"{p}#{k}" for p, k in CREATE_POINTS]
)
def test_crash_on_the_create_path_then_rerun_creates_every_job_once(
    tmp_path: Path, point: str, hit: int
) -> None:
    backend = ListingBackend(page_size=7)
    crash_and_recover(tmp_path, backend, point, hit)
    assert backend.calls.get("submit", 0) == 0


def crash_and_recover(tmp_path: Path, backend: FakeBackend, point: str, hit: int) -> None:
    clock = FakeClock()
    path = tmp_path / "state.db"
    backend.crash_at(point, hit)
    with pytest.raises(SimulatedCrash):
        apply_once(path, backend, clock)
    backend._crash_at.clear()
    result = apply_once(path, backend, clock)
    assert result.ok
    assert backend.creates == 50
    keys = Counter(j.labels[LABEL_FINGERPRINT] for j in backend.jobs())
    assert max(keys.values()) == 1
    with StateStore.open(path) as store:
        current = store.current_jobs()
        assert sorted(current) == [j.name for j in JOBS]
        assert {r.phase for r in current.values()} == {Phase.SUBMITTED}
        recorded = {r.remote_name for r in current.values()}
        assert recorded == {j.remote_name for j in backend.jobs()}
    assert not apply_once(path, backend, clock).plan.has_changes


def test_crash_during_the_recovery_run_too(tmp_path: Path) -> None:
    backend = FakeBackend(idempotent=False, page_size=7)
    clock = FakeClock()
    path = tmp_path / "state.db"
    for point, hit in (("submit.created", 20), ("list", 2), ("submit.created", 5)):
        backend.hits.clear()
        backend.crash_at(point, hit)
        with pytest.raises(SimulatedCrash):
            apply_once(path, backend, clock)
        backend._crash_at.clear()
    assert apply_once(path, backend, clock).ok
    assert backend.creates == 50
    assert max(Counter(j.labels[LABEL_FINGERPRINT] for j in backend.jobs()).values()) == 1


def fails_first_attempt(job: FakeJob) -> JobState:
    number = int(job.job_name.rsplit("_", 1)[1])
    if number % 5 == 0 and job.labels.get(LABEL_ATTEMPT) is None:
        return JobState.FAILED
    return JobState.SUCCEEDED


RETRY_JOBS = [compiled(f"job_{i:02d}", max_retries=2, backoff=1) for i in range(50)]
CONTROLLER_POINTS = [
    ("list", 2),
    ("list", 4),
    ("submit", 30),
    ("submit.created", 7),
    ("submit.created", 52),
    ("submit.created", 58),
]


@pytest.mark.parametrize(
    ("point", "hit"), CONTROLLER_POINTS, ids=[f"{p}#{k}" for p, k in CONTROLLER_POINTS]
)
def test_controller_crash_then_restart_converges(tmp_path: Path, point: str, hit: int) -> None:
    clock = FakeClock()
    backend = FakeBackend(
        idempotent=False,
        page_size=7,
        auto_advance=True,
        outcome=fails_first_attempt,
        now=clock.now,
    )
    path = tmp_path / "state.db"

    def controller(store: StateStore) -> Controller:
        return Controller(
            store,
            lambda t: backend,
            lambda: desired_from(RETRY_JOBS),
            actor="test",
            options=ControllerOptions(
                interval=1, submit_retry=FAST_RETRY, observe_retry=FAST_RETRY, max_running=20
            ),
            clock=clock,
            rng=random.Random(2),
        )

    backend.crash_at(point, hit)
    store = StateStore.open(path, now=clock.now)
    with pytest.raises(SimulatedCrash):
        controller(store).run(until_settled=True)
    store.close()
    backend._crash_at.clear()
    with StateStore.open(path, now=clock.now) as store:
        result = controller(store).run(until_settled=True)
        assert result is not None and result.settled
        current = store.current_jobs()
        assert {r.state for r in current.values()} == {JobState.SUCCEEDED}
        retried = {r.name for r in current.values() if r.attempt == 2}
    assert retried == {f"job_{i:02d}" for i in range(0, 50, 5)}
    assert backend.creates == 60  # 50 first attempts + 10 retries, none twice
    assert max(Counter(j.labels[LABEL_FINGERPRINT] for j in backend.jobs()).values()) == 1
