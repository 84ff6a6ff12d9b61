"""ML Engine was shut down on 2025-01-31: its specs are planned and shown, and
never submitted unless `--allow-retired` says so (plan, apply, saved plans)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchspec.cli.main import main
from batchspec.model.enums import Target
from batchspec.plan import ActionKind, PlanOptions, build_plan, desired_from
from batchspec.plan.render_markdown import render_markdown
from batchspec.plan.render_text import render_text
from batchspec.state import StateStore
from batchspec.testing.specs import compile_doc, local_job, spec_doc, write_specs


def legacy():
    return compile_doc(spec_doc("census", "mlengine"), target=Target.MLENGINE)


def test_a_submission_to_ml_engine_is_refused_not_a_change() -> None:
    plan = build_plan(desired_from([legacy()]), StateStore.memory().snapshot())
    [action] = plan.actions
    assert action.kind is ActionKind.CREATE and not action.submits and not action.changes
    assert action.refused is not None and "shut down on 2025-01-31" in action.refused
    assert "--target vertex" in action.refused and "--allow-retired" in action.refused
    assert not plan.has_changes and plan.changes == []
    assert "1 not submitted (retired service)" in plan.summary()
    assert "! refused" in render_text(plan) and "census" in render_markdown(plan)[0]


def test_allow_retired_plans_it_as_usual() -> None:
    plan = build_plan(
        desired_from([legacy()]),
        StateStore.memory().snapshot(),
        options=PlanOptions(allow_retired=True),
    )
    [action] = plan.actions
    assert action.submits and action.refused is None and plan.has_changes


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_specs(tmp_path / "specs", [spec_doc("census", "mlengine"), local_job("scores")])
    monkeypatch.chdir(tmp_path)
    for target in ("mlengine", "local"):
        monkeypatch.setenv(
            f"BATCHSPEC_BACKEND_{target.upper()}", "batchspec.testing.files:file_backend_from_env"
        )
    monkeypatch.setenv("FAKE_BACKEND_FILE", str(tmp_path / "service.json"))
    monkeypatch.setenv("BATCHSPEC_STATE", str(tmp_path / "state.db"))
    return tmp_path


def created(repo: Path) -> list[str]:
    data = json.loads((repo / "service.json").read_text())
    return sorted(job["job_name"] for job in data["jobs"].values())


def test_apply_skips_ml_engine_and_says_why(repo: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["apply", "specs"]) == 0
    err = capsys.readouterr().err
    assert "warning: census: not submitted: Cloud ML Engine" in err
    assert created(repo) == ["scores"]
    assert main(["plan", "specs"]) == 0  # nothing left to do: no changes, exit 0
    assert "! refused" in capsys.readouterr().out


def test_apply_allow_retired_submits_it(repo: Path) -> None:
    assert main(["apply", "specs", "--allow-retired"]) == 0
    assert created(repo) == ["census", "scores"]


def test_a_saved_plan_keeps_the_refusal(repo: Path) -> None:
    assert main(["plan", "specs", "--out", "plan.json"]) == 2
    saved = json.loads((repo / "plan.json").read_text())
    refused = [a for a in saved["actions"] if a.get("refused")]
    assert [a["name"] for a in refused] == ["census"]
    assert main(["apply", "plan.json"]) == 0
    assert created(repo) == ["scores"]
