"""What readers see of a recurring spec: `runs`, `status`, `results --run/--latest`,
and `drift`'s missed ticks and runs that never finished. The runs are made by
the controller on the fake clock; the commands then read the state file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchspec.cli.main import main
from batchspec.model.enums import JobState
from batchspec.plan.runs import overview
from batchspec.state.records import RunOutcome
from tests.schedule.conftest import World, nightly

START = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)


def three_nights(world: World) -> None:
    for day in range(3):
        world.at(START + timedelta(days=day))
        world.at(datetime(2026, 3, 26 + day, 1, 40, tzinfo=UTC))
        world.backend.advance(5)
        world.at(datetime(2026, 3, 26 + day, 2, 0, tzinfo=UTC))


@pytest.fixture
def state(world: World, tmp_path: Path) -> str:
    return str(tmp_path / "state.db")


def test_runs_lists_the_kept_runs_newest_first_and_all_with_all(
    world: World, state: str, capsys: pytest.CaptureFixture[str]
) -> None:
    world.docs = [nightly(keep=2)]
    three_nights(world)
    assert main(["runs", "nightly", "--state", state]) == 0
    out = capsys.readouterr().out
    assert "At 02:30 every day (Europe/Berlin)" in out
    rows = [line for line in out.splitlines() if "Europe/Berlin  2026" in line]
    assert [r.split()[0:2] for r in rows] == [["2026-03-28", "02:30"], ["2026-03-27", "02:30"]]
    assert all("SUCCEEDED" in r and "100/100" in r for r in rows)
    assert "(1 older run(s); --all lists them)" in out
    assert "next: " in out
    assert main(["runs", "nightly", "--all", "--state", state, "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["runKey"] for r in data["runs"]] == [
        "20260328T013000Z",
        "20260327T013000Z",
        "20260326T013000Z",
    ]
    assert data["lastRun"]["runKey"] == "20260328T013000Z"
    assert data["timeZone"] == "Europe/Berlin" and len(data["next"]) == 3


def test_runs_shows_missed_ticks_with_their_reason(
    world: World, state: str, capsys: pytest.CaptureFixture[str]
) -> None:
    world.docs = [nightly(startingDeadline="1h")]
    world.at(START)
    world.at(datetime(2026, 3, 26, 4, 0, tzinfo=UTC))
    assert main(["runs", "nightly", "--state", state]) == 0
    out = capsys.readouterr().out
    assert "MISSED" in out and "startingDeadline 1h" in out


def test_runs_of_a_spec_that_runs_once_is_a_clear_error(
    world: World, state: str, capsys: pytest.CaptureFixture[str]
) -> None:
    three_nights(world)
    assert main(["runs", "other", "--state", state]) == 1
    assert "no recurring spec 'other'" in capsys.readouterr().err


def test_status_shows_last_and_next_run(
    world: World, state: str, capsys: pytest.CaptureFixture[str]
) -> None:
    three_nights(world)
    assert main(["status", "--state", state]) == 0
    out = capsys.readouterr().out
    row = next(r for r in out.splitlines() if r.startswith("nightly") and "At 02:30" in r)
    assert "2026-03-28 02:30 Europe/Berlin (20260328T013000Z)" in row and "SUCCEEDED" in row
    assert main(["status", "--state", state, "-o", "json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["recurring"]["lastRun"]["runKey"] == "20260328T013000Z"


def test_status_shows_a_schedule_recorded_before_its_first_run(
    world: World, state: str, capsys: pytest.CaptureFixture[str]
) -> None:
    world.at(START)
    assert main(["status", "--state", state]) == 0
    out = capsys.readouterr().out
    assert "nightly" in out and "Europe/Berlin" in out and "No jobs recorded" not in out


def test_results_of_one_run_and_of_the_latest_success(
    world: World, state: str, capsys: pytest.CaptureFixture[str]
) -> None:
    three_nights(world)
    newest = world.store.runs("nightly")[0]
    assert newest.job is not None and newest.job.remote_name is not None
    assert main(["results", "nightly", "--run", "20260327", "--state", state]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["results", "nightly", "--run", "2026032", "--state", state]) == 1
    assert "3 runs of 'nightly' have run keys starting with" in capsys.readouterr().err
    assert main(["results", "nightly", "--run", "nope", "--state", state]) == 1
    assert "no run of 'nightly' has run key 'nope'" in capsys.readouterr().err
    # The newest run fails: --latest reads the one before it.
    world.backend.set_state(newest.job.remote_name, JobState.FAILED, error="quota")
    world.at(datetime(2026, 3, 28, 3, 0, tzinfo=UTC))
    before = world.store.runs("nightly")[1].job
    assert before is not None and before.output_location is not None
    assert main(["results", "nightly", "--latest", "--state", state]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    for child in Path(before.output_location).iterdir():
        child.unlink()
    assert main(["results", "nightly", "--latest", "--state", state]) == 1


def test_overview_reports_ticks_nobody_decided_and_runs_that_never_finished(
    world: World,
) -> None:
    world.at(START)
    world.at(datetime(2026, 3, 26, 1, 40, tzinfo=UTC))  # runs, and never finishes
    spec = world.desired().jobs["nightly"].spec.model_dump(mode="json", by_alias=True)["spec"]
    later = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # no controller since
    found = overview(world.store, "nightly", later, spec=spec)
    assert found is not None
    assert [t.isoformat() for t in found.overdue()] == [
        "2026-03-27T01:30:00+00:00",
        "2026-03-28T01:30:00+00:00",
    ]
    assert [r.run_key for r in found.unfinished()] == ["20260326T013000Z"]
    assert found.last is not None and found.last.outcome is RunOutcome.RUN


def test_drift_reports_missed_ticks_and_runs_that_never_finished(world: World) -> None:
    from batchspec.reconcile.drift import detect_drift
    from batchspec.state.records import DriftKind

    world.docs = [nightly(startingDeadline="1h")]
    world.at(START)
    world.at(datetime(2026, 3, 26, 4, 0, tzinfo=UTC))  # too late: missed
    world.at(datetime(2026, 3, 27, 1, 40, tzinfo=UTC))  # runs, and never finishes
    world.clock.current = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # no controller since

    def check() -> list[tuple[str, str]]:
        report = detect_drift(
            world.store, lambda _t: world.backend, desired=world.desired(), clock=world.clock
        )
        kinds = (DriftKind.MISSED_TICKS, DriftKind.UNFINISHED_RUN)
        return [(f.kind.value, f.detail) for f in report.findings if f.kind in kinds]

    found = check()
    assert found == [
        ("missed_ticks", found[0][1]),
        ("missed_ticks", found[1][1]),
        ("missed_ticks", found[2][1]),
        ("unfinished_run", found[3][1]),
    ]
    assert "2026-03-26 02:30 Europe/Berlin was missed" in found[0][1]
    assert "startingDeadline 1h" in found[0][1]
    assert "2026-03-28 02:30 Europe/Berlin is due and no controller decided it" in found[1][1]
    assert "2026-03-29 03:00" in found[2][1]  # spring forward: 02:30 does not exist
    assert "run 20260327T013000Z" in found[3][1] and "QUEUED" in found[3][1]
    world.store.record_drift(detect_drift(world.store, lambda _t: world.backend).findings)
    # The controller comes back: the ticks are decided, the old run finishes.
    world.backend.advance(5)
    world.at(datetime(2026, 3, 29, 12, 1, tzinfo=UTC))
    world.backend.advance(5)
    world.at(datetime(2026, 3, 29, 12, 2, tzinfo=UTC))
    found = check()
    assert not [f for f in found if "no controller" in f[1] or f[0] == "unfinished_run"]


def test_the_job_page_shows_the_schedule_next_runs_and_recent_runs(
    world: World, state: str
) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from batchspec.ui.app import create_app
    from batchspec.ui.source import StateReader

    world.docs = [nightly(keep=2)]
    three_nights(world)
    newest = world.store.runs("nightly")[0].job
    assert newest is not None
    app = create_app(StateReader(Path(state)), now=world.clock.now)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get(f"/jobs/{newest.id}").text
    assert "<h2>Schedule</h2>" in page and "At 02:30 every day (Europe/Berlin)" in page
    assert "concurrency Allow, catchUp 0" in page
    next_runs = page.split('data-testid="next-runs"')[1].split("</p>")[0]
    assert next_runs.count("<time") == 3
    recent = page.split('data-testid="recent-runs"')[1].split("</p>")[0]
    assert recent.count('href="/jobs/') == 2  # keep: 2
    assert f'href="/jobs/{newest.id}"' in recent
