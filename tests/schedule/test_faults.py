"""Recurring specs under the controller, on a fake clock: never a sleep.

A week of nightly ticks across both DST changes, an outage with catchUp 0,
1 and 3, each concurrency policy with a run still going, a crash between
intent and submit, two controllers, and an input listing that fails.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchspec.errors import LeaseHeldError
from batchspec.io.guard import StorageError
from batchspec.model.enums import JobState
from batchspec.reconcile.controller import Controller
from batchspec.state import StateStore
from batchspec.state.lease import CONTROLLER_LEASE, holding, this_process
from batchspec.state.records import RunOutcome
from batchspec.testing.backend import SimulatedCrash
from batchspec.testing.specs import local_job
from tests.schedule.conftest import World, nightly

BERLIN_SPRING = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # DST starts 2026-03-29
BERLIN_FALL = datetime(2026, 10, 21, 12, 0, tzinfo=UTC)  # DST ends 2026-10-25


def hourly_passes(world: World, start: datetime, hours: int) -> None:
    """A pass every hour (jobs move along between passes)."""
    for h in range(hours + 1):
        world.at(start + timedelta(hours=h))
        world.backend.advance(5)


def local_times(world: World) -> list[str]:
    runs = sorted(world.store.runs("nightly"), key=lambda r: r.scheduled_at)
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    return [f"{r.scheduled_at.astimezone(berlin):%m-%d %H:%M}" for r in runs]


def assert_once_per_key(world: World) -> None:
    keys = Counter(world.run_keys())
    assert keys and max(keys.values()) == 1, keys


def test_a_week_of_nightly_ticks_across_spring_forward(world: World) -> None:
    hourly_passes(world, BERLIN_SPRING, 24 * 7)
    assert local_times(world) == [
        "03-26 02:30",
        "03-27 02:30",
        "03-28 02:30",
        "03-29 03:00",  # 02:30 does not exist that night: once, at the end of the gap
        "03-30 02:30",
        "03-31 02:30",
        "04-01 02:30",
    ]
    assert world.backend.creates == 7
    assert_once_per_key(world)
    assert {r.state for r in world.store.runs("nightly")} == {"SUCCEEDED"}


def test_a_week_of_nightly_ticks_across_fall_back(world: World) -> None:
    world.clock.current = BERLIN_FALL
    hourly_passes(world, BERLIN_FALL, 24 * 7)
    assert local_times(world) == [
        "10-22 02:30",
        "10-23 02:30",
        "10-24 02:30",
        "10-25 02:30",  # 02:30 happens twice that night: the run happens once
        "10-26 02:30",
        "10-27 02:30",
        "10-28 02:30",
    ]
    assert world.backend.creates == 7
    assert_once_per_key(world)


def test_each_run_writes_to_its_own_output_folder(world: World) -> None:
    from batchspec.plan.attempts import as_submitted

    hourly_passes(world, BERLIN_SPRING, 24 * 3)
    job = world.desired().jobs["nightly"]
    outputs = [
        as_submitted(job, r.job).body["spec"]["output"]["path"]
        for r in world.store.runs("nightly")
        if r.job is not None
    ]
    assert sorted(outputs) == [
        "out/nightly/2026-03-26",
        "out/nightly/2026-03-27",
        "out/nightly/2026-03-28",
    ]


@pytest.mark.parametrize(("catch_up", "ran"), [(0, 1), (1, 2), (3, 3)])
def test_controller_down_for_three_days(world: World, catch_up: int, ran: int) -> None:
    """Down from the first night's run until the fourth day's noon: catchUp
    runs that many of the missed nights late (the newest ones), besides the
    latest tick; the others are recorded as missed."""
    world.docs = [nightly(catchUp=catch_up)]
    world.at(BERLIN_SPRING)
    world.at(datetime(2026, 3, 26, 2, 0, tzinfo=UTC))  # the first night runs
    world.backend.advance(5)
    assert world.backend.creates == 1
    world.at(datetime(2026, 3, 29, 12, 0, tzinfo=UTC))  # three nights later
    runs = world.store.runs("nightly")
    started = [r for r in runs if r.outcome is RunOutcome.RUN]
    missed = [r for r in runs if r.outcome is RunOutcome.MISSED]
    assert world.backend.creates == 1 + ran
    assert len(started) == 1 + ran
    assert len(missed) == 3 - ran
    assert local_times(world) == ["03-26 02:30", "03-27 02:30", "03-28 02:30", "03-29 03:00"]
    # The newest nights ran; the oldest were missed.
    newest = sorted(started, key=lambda r: r.scheduled_at)[-ran:]
    assert all(m.scheduled_at < min(r.scheduled_at for r in newest) for m in missed)
    world.at(datetime(2026, 3, 29, 13, 0, tzinfo=UTC))  # nothing is run twice
    assert world.backend.creates == 1 + ran
    assert_once_per_key(world)


def test_a_tick_later_than_the_starting_deadline_is_missed(world: World) -> None:
    world.docs = [nightly(startingDeadline="1h", catchUp=3)]
    world.at(BERLIN_SPRING)
    world.at(datetime(2026, 3, 26, 4, 0, tzinfo=UTC))  # 2h30 after the tick
    assert world.backend.creates == 0
    [run] = world.store.runs("nightly")
    assert run.outcome is RunOutcome.MISSED
    assert "startingDeadline 1h" in (run.reason or "")


def _second_tick_with_first_running(world: World, policy: str) -> None:
    world.docs = [nightly(concurrency=policy)]
    world.at(BERLIN_SPRING)
    world.at(datetime(2026, 3, 26, 1, 40, tzinfo=UTC))
    assert world.backend.creates == 1  # and it never finishes: no advance
    world.at(datetime(2026, 3, 27, 1, 40, tzinfo=UTC))


def test_forbid_skips_the_tick_while_a_run_is_going(world: World) -> None:
    _second_tick_with_first_running(world, "Forbid")
    assert world.backend.creates == 1
    newest = world.store.runs("nightly")[0]
    assert newest.outcome is RunOutcome.SKIPPED
    assert "concurrency: Forbid" in (newest.reason or "")
    world.at(datetime(2026, 3, 27, 2, 40, tzinfo=UTC))  # decided once, not retried
    assert world.backend.creates == 1


def test_allow_runs_both(world: World) -> None:
    _second_tick_with_first_running(world, "Allow")
    assert world.backend.creates == 2
    states = {j.state for j in world.backend.jobs()}
    assert JobState.SUCCEEDED.value not in states
    followed = {r.run_key for r in world.store.followed_jobs()}
    assert len(followed) == 2  # the earlier run is still followed to its end


def test_replace_cancels_the_unfinished_run(world: World) -> None:
    _second_tick_with_first_running(world, "Replace")
    assert world.backend.creates == 2
    first, second = sorted(world.backend.jobs(), key=lambda j: j.seq)
    assert first.state in (JobState.CANCELLING.value, JobState.CANCELLED.value)
    assert second.state not in (JobState.CANCELLING.value, JobState.CANCELLED.value)
    record = world.store.find_job(first.remote_name)
    assert record is not None and "concurrency: Replace" in (record.cancel_reason or "")


@pytest.mark.parametrize("point", ["submit", "submit.created"])
def test_crash_between_intent_and_submit_then_restart(world: World, point: str) -> None:
    """Killed at the tick after the intent was recorded (before the create,
    or after it with the answer lost): the restarted controller looks the
    run up by its key, and the run has exactly one job."""
    world.at(BERLIN_SPRING)
    world.backend.crash_at(point, 1)
    with pytest.raises(SimulatedCrash):
        world.at(datetime(2026, 3, 26, 1, 40, tzinfo=UTC))
    world.backend._crash_at.clear()
    [run] = world.store.runs("nightly")
    assert run.job is not None and run.job.in_doubt
    world.at(datetime(2026, 3, 26, 1, 50, tzinfo=UTC))
    assert world.backend.creates == 1
    [run] = world.store.runs("nightly")
    assert run.job is not None and run.job.remote_name is not None
    world.backend.advance(5)
    hourly_passes(world, datetime(2026, 3, 26, 2, 0, tzinfo=UTC), 24)
    assert world.backend.creates == 2
    assert_once_per_key(world)


def test_two_controllers_one_acts(world: World, tmp_path: Path) -> None:
    world.at(BERLIN_SPRING)
    other_store = StateStore.open(tmp_path / "state.db", now=world.clock.now)
    other = Controller(
        other_store,
        lambda _target: world.backend,
        world.desired,
        actor="controller-2",
        clock=world.clock,
    )
    with holding(world.store, this_process("reconcile"), name=CONTROLLER_LEASE):
        with (
            pytest.raises(LeaseHeldError),
            holding(other_store, this_process("reconcile 2"), name=CONTROLLER_LEASE),
        ):
            pass
        world.at(datetime(2026, 3, 26, 1, 40, tzinfo=UTC))
    # Even a second controller that got past the lease finds the tick decided.
    other.run_pass()
    other_store.close()
    assert world.backend.creates == 1


def test_input_trigger_listing_fails_mid_pass(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No run, an error recorded on the schedule, and the next pass lists again."""
    inputs = tmp_path / "specs" / "data" / "watched"
    inputs.mkdir(parents=True)
    (inputs / "in-1.jsonl").write_text('{"id": 1}\n')
    world.docs = [
        local_job(
            "watched",
            paths=["data/watched/in-*"],
            output={"path": "out/watched/{run.id}"},
            trigger="inputs",
        )
    ]
    world.at(BERLIN_SPRING)
    assert world.backend.creates == 1  # the inputs as they are: never scored
    world.at(BERLIN_SPRING + timedelta(minutes=1))
    assert world.backend.creates == 1  # unchanged
    (inputs / "in-2.jsonl").write_text('{"id": 2}\n')
    from batchspec.reconcile import inputs as watching

    real = watching.snapshot

    def failing(paths: list[str], base: Path) -> object:
        raise StorageError("cannot list the folder gs://bucket/in: 503 Service Unavailable")

    monkeypatch.setattr(watching, "snapshot", failing)
    world.at(BERLIN_SPRING + timedelta(minutes=2))
    assert world.backend.creates == 1
    recorded = world.store.schedule_of("watched")
    assert recorded is not None and "503" in (recorded.error or "")
    monkeypatch.setattr(watching, "snapshot", real)
    world.at(BERLIN_SPRING + timedelta(minutes=3))
    assert world.backend.creates == 2
    recorded = world.store.schedule_of("watched")
    assert recorded is not None and recorded.error is None
    keys = [r.run_key for r in world.store.runs("watched")]
    assert len(set(keys)) == 2 and all(k.startswith("inputs-") for k in keys)


def test_a_spec_change_runs_from_the_next_tick_and_never_reruns(world: World) -> None:
    hourly_passes(world, BERLIN_SPRING, 24)  # the 26th ran
    before = world.backend.creates
    world.docs = [nightly(model="tests.models:other")]
    world.at(datetime(2026, 3, 26, 14, 0, tzinfo=UTC))
    assert world.backend.creates == before  # nothing runs at the change
    world.at(datetime(2026, 3, 27, 1, 40, tzinfo=UTC))
    assert world.backend.creates == before + 1
    fps = {r.fingerprint for r in world.store.runs("nightly")}
    assert len(fps) == 2
    assert_once_per_key(world)
