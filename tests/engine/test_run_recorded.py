"""`batchspec run` records its job in the same state as `apply`: the same record,
fingerprint and transitions, so status, get, results, logs and drift see it
and a later apply of the spec does not start it again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchspec.cli.main import main
from batchspec.state import Phase, StateStore
from tests.engine.conftest import Workspace, python_model, spec_doc


def spec(ws: Workspace) -> Path:
    ws.jsonl("in/a.jsonl", [{"id": i, "text": "x" * i} for i in range(10)])
    doc = spec_doc(
        model=python_model("tests.engine.helpers.models:length"),
        input={"format": "JSONL", "paths": ["in/*"], "keyField": "id"},
        output={"path": "out", "overwrite": True},
    )
    return ws.write("job.yaml", json.dumps(doc))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def home(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BATCHSPEC_HOME", str(ws.root / "home"))
    monkeypatch.chdir(ws.root)
    return ws.root / "home"


def test_run_is_recorded_like_apply(
    ws: Workspace, home: Path, state_in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = spec(ws)
    code, text = cli(capsys, "run", str(path))
    assert code == 0, text
    with StateStore.open(state_in_tmp) as store:
        [record] = store.current_jobs().values()
        events = [t.event for t in store.transitions(name="test_job")]
    assert record.phase is Phase.SUBMITTED and record.state and record.state.value == "SUCCEEDED"
    assert record.remote_name and record.fingerprint and record.source == "job.yaml"
    assert events[:2] == ["intent", "submitted"] and "state" in events

    code, text = cli(capsys, "status")
    assert code == 0 and "test_job" in text and "SUCCEEDED" in text
    code, text = cli(capsys, "get", "test_job")
    assert code == 0 and record.remote_name in text
    code, text = cli(capsys, "results", "test_job")
    assert code == 0 and len(text.strip().splitlines()) == 10
    code, text = cli(capsys, "logs", str(path))
    assert code == 0
    code, text = cli(capsys, "drift", "job.yaml")
    assert code == 0 and "No drift" in text, text  # not an unknown job
    code, text = cli(capsys, "apply", "job.yaml")
    assert code == 0 and "No changes" in text  # apply finds it: not started twice
    assert len(list(home.glob("jobs/*"))) == 1


def test_run_again_attaches_and_rerun_is_a_new_attempt(
    ws: Workspace, home: Path, state_in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = spec(ws)
    assert cli(capsys, "run", str(path))[0] == 0
    code, text = cli(capsys, "run", str(path))
    assert code == 0 and "already ran" in text
    assert cli(capsys, "run", str(path), "--rerun")[0] == 0
    with StateStore.open(state_in_tmp) as store:
        jobs = sorted(store.all_jobs(), key=lambda r: r.attempt)
    assert [(j.attempt, j.disposition.value) for j in jobs] == [(1, "superseded"), (2, "current")]
    assert len({j.remote_name for j in jobs}) == 2


def test_run_detach_then_cancel_is_recorded(
    ws: Workspace, home: Path, state_in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = spec(ws)
    assert cli(capsys, "run", str(path), "--detach")[0] == 0
    assert cli(capsys, "run", str(path), "--cancel")[0] == 0
    with StateStore.open(state_in_tmp) as store:
        [record] = store.current_jobs().values()
    assert record.cancel_reason == "batchspec run --cancel"
