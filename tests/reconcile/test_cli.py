"""The controller commands end to end, in process, against the file-backed double."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchspec.cli.main import main
from batchspec.state import Lease, StateStore, this_process
from batchspec.testing.files import FileBackend
from batchspec.testing.specs import local_job, write_specs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BATCHSPEC_BACKEND_LOCAL", "batchspec.testing.files:file_backend_from_env")
    monkeypatch.setenv("FAKE_BACKEND_FILE", str(tmp_path / "service.json"))
    monkeypatch.setenv("FAKE_BACKEND_OUTPUTS", str(tmp_path / "outputs"))
    monkeypatch.setenv("FAKE_BACKEND_AUTO_ADVANCE", "0")
    monkeypatch.delenv("BATCHSPEC_STATE", raising=False)
    write_specs(tmp_path / "specs", [local_job(n, on_removal="cancel") for n in ("alpha", "beta")])
    return tmp_path


def service(project: Path) -> FileBackend:
    return FileBackend(project / "service.json", output_root=project / "outputs")


def test_plan_apply_plan_cycle_with_exit_codes(project: Path, capsys) -> None:
    assert main(["plan"]) == 2
    out = capsys.readouterr().out
    assert "+ create   alpha" in out and "2 to create" in out
    assert not (project / ".batchspec").exists()  # plan alone writes nothing
    assert main(["apply"]) == 0
    out = capsys.readouterr().out
    assert "Apply complete: 2 created." in out
    assert service(project).creates == 2
    assert (project / ".batchspec" / "state.db").exists()
    assert main(["plan"]) == 0
    assert "0 to create" in capsys.readouterr().out


def test_plan_reports_spec_errors_with_exit_1(project: Path, capsys) -> None:
    (project / "specs" / "broken.yaml").write_text("apiVersion: batchspec.dev/v1\nkind: Nope\n")
    assert main(["plan"]) == 1
    out = capsys.readouterr().out
    assert "broken.yaml" in out and "cannot be applied" in out
    assert main(["apply"]) == 1
    assert "nothing applied" in capsys.readouterr().err
    assert service(project).creates == 0


def test_markdown_comments_and_json(project: Path, capsys) -> None:
    assert main(["plan", "-o", "markdown", "--comment-dir", "comments"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("<!-- batchspec-plan -->")
    assert (project / "comments" / "comment-1.md").read_text().startswith("<!-- batchspec-plan")
    assert main(["plan", "-o", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["create"] == 2


def test_saved_plan_applies_exactly_or_not_at_all(project: Path, capsys) -> None:
    assert main(["plan", "--out", "plan.json"]) == 2
    assert main(["apply", "plan.json"]) == 0
    assert "Applying saved plan plan.json" in capsys.readouterr().out
    assert service(project).creates == 2
    assert main(["apply", "plan.json"]) == 1
    assert "state changed since plan plan.json was made" in capsys.readouterr().err


def test_wait_follows_jobs_to_the_end_and_shows_results(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BACKEND_AUTO_ADVANCE", "1")
    assert main(["apply", "--wait", "--interval", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "alpha  SUCCEEDED" in out and "Results: batchspec results alpha" in out
    assert str(project / "outputs") in out
    assert main(["results", "alpha"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0]) == {
        "key": "k0",
        "outcome": "predicted",
        "prediction": {"label": 0, "score": 0.0},
    }
    assert main(["results", "alpha", "-o", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "key,outcome,prediction.label,prediction.score,error"
    )


def test_status_get_history_cancel_and_drift(project: Path, capsys) -> None:
    assert main(["apply"]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "QUEUED" in out
    assert main(["get", "alpha", "-o", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["state"] == "QUEUED" and record["transitions"][0]["event"] == "intent"
    assert main(["cancel", "alpha"]) == 0
    assert "cancel requested" in capsys.readouterr().out
    assert main(["drift"]) == 0
    assert "No drift." in capsys.readouterr().out
    backend = service(project)
    beta = json.loads((project / "service.json").read_text())["jobs"]
    [beta_name] = [k for k, v in beta.items() if v["job_name"] == "beta"]
    backend.cancel_outside(beta_name)
    assert main(["drift"]) == 2
    out = capsys.readouterr().out
    assert "cancelled_outside" in out and "beta" in out
    assert main(["history", "alpha"]) == 0
    out = capsys.readouterr().out
    assert "cancel_requested" in out and "cancelled by a user" in out
    assert main(["history", "--drift", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["drift"][0]["kind"] == "cancelled_outside"


def test_removing_a_spec_cancels_its_job(project: Path, capsys) -> None:
    assert main(["apply"]) == 0
    (project / "specs" / "beta.yaml").unlink()
    assert main(["plan"]) == 2
    assert "x cancel   beta" in capsys.readouterr().out
    assert main(["apply"]) == 0
    assert main(["status", "--all"]) == 0
    assert "removed" in capsys.readouterr().out


def test_reconcile_once(project: Path, capsys) -> None:
    assert main(["reconcile", "--once"]) == 0
    assert "pass 1: 2 action(s)" in capsys.readouterr().out
    assert service(project).creates == 2


def test_apply_refuses_while_another_holds_the_lease(project: Path, capsys) -> None:
    path = project / ".batchspec" / "state.db"
    with StateStore.open(path) as store:
        from dataclasses import replace

        holder = replace(this_process("batchspec reconcile"), host="ci-7", owner="ci@ci-7 pid 9")
        Lease(store, holder).acquire()
        assert main(["apply"]) == 1
        err = capsys.readouterr().err
        assert "is locked: writer lease held by ci@ci-7 pid 9 (batchspec reconcile)" in err
        assert "--break-lease" in err
        assert service(project).creates == 0
        assert main(["apply", "--break-lease"]) == 0
        assert "broke the writer lease held by ci@ci-7 pid 9" in capsys.readouterr().err
        assert store.audit_entries()[-1].kind == "lease-break"


def test_corrupt_state_is_a_clear_error(project: Path, capsys) -> None:
    (project / "bad.db").write_bytes(b"garbage" * 100)
    assert main(["status", "--state", "bad.db"]) == 1
    err = capsys.readouterr().err
    assert "error: state file bad.db is not an SQLite database" in err and "hint:" in err


def test_unknown_job_is_a_clear_error(project: Path, capsys) -> None:
    assert main(["get", "nope"]) == 1
    assert "no job 'nope'" in capsys.readouterr().err


def test_target_filter_plans_only_that_target(project: Path, capsys) -> None:
    import shutil

    shutil.copy(REPO / "specs" / "catalogue_vertex.yaml", project / "specs")
    assert main(["plan", "--target", "local"]) == 2
    out = capsys.readouterr().out
    assert "alpha" in out and "catalogue_embeddings" not in out
    assert main(["apply", "--target", "local"]) == 0
    assert service(project).creates == 2


def test_wait_gives_up_clearly_when_the_backend_cannot_load(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHSPEC_BACKEND_LOCAL", "no_such_module_xyz:Backend")
    assert main(["apply", "--wait", "--interval", "0.01"]) == 1
    captured = capsys.readouterr()
    assert "cannot import no_such_module_xyz" in captured.out
    assert "cannot follow the jobs on backend local" in captured.err
    assert captured.err.count("could not be listed") == 1
    assert main(["status"]) == 0
    assert "No jobs recorded yet" in capsys.readouterr().out  # nothing left in doubt


def test_plan_refresh_sees_what_the_backend_reports(project: Path, capsys) -> None:
    import sqlite3

    assert main(["apply"]) == 0
    backend = service(project)
    alpha = next(j for j in backend.jobs() if j.job_name == "alpha")
    from batchspec.model.enums import JobState

    backend.set_state(alpha.remote_name, JobState.FAILED)
    capsys.readouterr()
    assert main(["plan"]) == 0  # recorded state still says QUEUED
    assert main(["plan", "--refresh"]) == 0  # FAILED with no retries left: nothing to do
    out = capsys.readouterr().out
    assert "refreshed from backends" in out
    conn = sqlite3.connect(project / ".batchspec" / "state.db")
    assert conn.execute("SELECT state FROM jobs WHERE name='alpha'").fetchone()[0] == "QUEUED"
    assert main(["plan", "--refresh", "-v"]) == 0
    assert "FAILED; no retries left" in capsys.readouterr().out


def test_progress_bars_render(project: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from batchspec.cli._follow import Follower

    monkeypatch.setenv("FAKE_BACKEND_AUTO_ADVANCE", "1")
    assert main(["apply"]) == 0
    from batchspec.reconcile.observe import observe
    from batchspec.reconcile.sync import sync

    def provider(target: str) -> FileBackend:
        return service(project)

    with (
        StateStore.open(project / ".batchspec" / "state.db") as store,
        Follower(store, lambda: {"alpha", "beta"}, bars=True) as follower,
    ):
        follower.update()
        service(project).advance(3)
        sync(store, observe({"local"}, provider), provider, actor="t")
        follower.update()
    err = capsys.readouterr().err
    assert "alpha" in err and "SUCCEEDED" in err


def test_replace_of_an_unknown_name_is_an_error(project: Path, capsys) -> None:
    assert main(["plan", "--replace", "alpah"]) == 1
    assert "--replace names no declared job: alpah" in capsys.readouterr().err


def test_every_name_ever_used_is_listed(project: Path, capsys) -> None:
    assert main(["apply"]) == 0
    (project / "specs" / "beta.yaml").unlink()
    assert main(["apply"]) == 0
    capsys.readouterr()
    assert main(["history", "--names"]) == 0
    out = capsys.readouterr().out
    assert "spec" in out and "beta" in out and "local-jobs/beta-000002" in out


def test_apply_runs_between_the_passes_of_a_running_controller(project: Path, capsys) -> None:
    from dataclasses import replace

    from batchspec.state.lease import CONTROLLER_LEASE

    path = project / ".batchspec" / "state.db"
    with StateStore.open(path) as store:
        controller = replace(this_process("batchspec reconcile"), host="ops-1", owner="ops@ops-1")
        Lease(store, controller, name=CONTROLLER_LEASE).acquire()
        assert main(["apply"]) == 0  # the controller sleeps between passes: apply's turn
        assert main(["reconcile", "--once"]) == 1
        err = capsys.readouterr().err
        assert "another controller is running: controller lease held by ops@ops-1" in err
