"""Recurring specs through the commands, in process, against the file-backed double.

The clock is the real one here (the fault tests own the fake clock), so the
expected next runs are worked out from the same time the command saw.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from batchspec.cli.main import main
from batchspec.schedule.cron import Cron
from batchspec.testing.files import FileBackend
from batchspec.testing.specs import local_job, write_specs
from tests.conftest import use_file_double
from tests.schedule.conftest import nightly

HOURLY = {"cron": "0 * * * *", "timeZone": "Asia/Kolkata"}
NIGHTLY_BERLIN = {"cron": "30 2 * * *", "timeZone": "Europe/Berlin"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_file_double(tmp_path, monkeypatch)
    write_specs(tmp_path / "specs", [nightly(), local_job("oneoff")])
    return tmp_path


def service(project: Path) -> FileBackend:
    return FileBackend(project / "service.json", output_root=project / "outputs")


def next_berlin_tick() -> str:
    tick = Cron.parse("30 2 * * *", "Europe/Berlin").next(datetime.now(UTC))[0]
    return Cron("30 2 * * *", "Europe/Berlin").shown(tick)


def test_apply_records_the_schedule_and_runs_nothing_until_the_first_tick(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan"]) == 2
    out = capsys.readouterr().out
    assert "+ schedule nightly" in out and "+ create   oneoff" in out
    assert f"nightly @ {next_berlin_tick()}" in out  # the Next runs section
    assert main(["apply"]) == 0
    out = capsys.readouterr().out
    assert "1 created" in out and "1 scheduled" in out
    assert [j.job_name for j in service(project).jobs()] == ["oneoff"]
    assert main(["plan"]) == 0  # recorded: nothing to do before the tick
    assert "Next runs:" in capsys.readouterr().out


def test_apply_now_runs_once_into_the_runs_own_folder(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", "--now", "--select", "nightly"]) == 0
    assert "1 started" in capsys.readouterr().out
    (job,) = service(project).jobs()
    key = job.labels["batchspec-run"]
    assert re.fullmatch(r"\d{8}t\d{6}z", key)  # --now: the run's time is now
    assert main(["plan", "--select", "nightly"]) == 0


def test_saved_plan_of_a_recurring_spec_applies_exactly(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--out", "plan.json", "-o", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    (action,) = [a for a in data["actions"] if a["name"] == "nightly"]
    assert action["kind"] == "schedule" and action["cursor"] and action["job"]
    (up,) = data["upcoming"]
    assert up["name"] == "nightly" and up["timeZone"] == "Europe/Berlin" and len(up["next"]) == 3
    assert data["summary"]["schedule"] == 1
    assert main(["apply", "plan.json"]) == 0
    assert "1 scheduled" in capsys.readouterr().out
    assert main(["plan", "--select", "nightly"]) == 0


def test_markdown_plan_has_a_next_runs_table(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hourly = local_job("hourly", schedule=HOURLY, output={"path": "out/{run.id}"})
    write_specs(project / "specs", [hourly])
    assert main(["plan", "-o", "markdown"]) == 2
    out = capsys.readouterr().out
    assert "#### Next runs" in out and "| schedule |" in out
    assert "Asia/Kolkata" in out and "| run | 0 |" in out


def test_plan_of_one_off_specs_keeps_its_shape(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "specs" / "nightly.yaml").unlink()
    assert main(["plan", "-o", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert "run" not in data["summary"] and data["upcoming"] == []
    assert main(["plan"]) == 2
    out = capsys.readouterr().out
    assert "to run" not in out and "Next runs" not in out


@pytest.mark.parametrize("target", ["vertex", "mlengine", "local"])
def test_render_shows_the_run_at_a_time_with_its_key_and_paths(
    project: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    from batchspec.testing.specs import spec_doc

    out = "gs://bucket/out/{run.date}/" if target != "local" else "out/{run.date}"
    doc = spec_doc("nightly_scores", target, output={"path": out}, schedule=NIGHTLY_BERLIN)
    write_specs(project / "cloud", [doc])
    argv = ["render", "cloud", "--run-at", "2026-12-24T02:30", "--no-check"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["run"] == {
        "key": "20261224T013000Z",
        "scheduledAt": "2026-12-24 02:30 Europe/Berlin",
    }
    text = json.dumps(data["body"])
    assert "2026-12-24" in text and "{run.date}" not in text
    if target == "vertex":
        assert data["body"]["labels"]["batchspec-run"] == "20261224t013000z"
    if target == "mlengine":
        assert data["body"]["jobId"].endswith("_20261224t013000z")
    assert main([*argv[:2], "--run-at", "2026-12-24T01:30Z", "--no-check"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["key"] == "20261224T013000Z"
    assert main(["render", "cloud", "--no-check"]) == 0  # the next run
    key = json.loads(capsys.readouterr().out)["run"]["key"]
    assert key == Cron.parse("30 2 * * *", "Europe/Berlin").next(datetime.now(UTC))[0].strftime(
        "%Y%m%dT%H%M%SZ"
    )


def test_removing_a_spec_before_its_first_run_forgets_its_schedule(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply"]) == 0
    (project / "specs" / "nightly.yaml").unlink()
    assert main(["plan"]) == 2
    assert "spec removed before its first run" in capsys.readouterr().out
    assert main(["plan", "--select", "oneoff"]) == 0  # out of scope: kept
    assert main(["apply"]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    assert "RECURRING" not in capsys.readouterr().out
    assert main(["plan"]) == 0
