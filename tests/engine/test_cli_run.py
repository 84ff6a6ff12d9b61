"""`batchspec run SPEC`: submit, follow, summarise, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchspec.cli.main import main
from tests.engine.conftest import Workspace, python_model, spec_doc


def _doc(ws: Workspace, model: str = "length", **kw: object) -> dict:  # type: ignore[type-arg]
    ws.jsonl("in/a.jsonl", [{"id": i, "text": "bad" if i == 3 else "x" * i} for i in range(10)])
    return spec_doc(
        model=python_model(f"tests.engine.helpers.models:{model}"),
        input={"format": "JSONL", "paths": ["in/*"], "keyField": "id"},
        **kw,  # type: ignore[arg-type]
    )


def _run(ws: Workspace, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["run", *args, "--home", str(ws.root / "home")])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_run_follows_to_the_end_and_summarises(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = ws.write("spec.yaml", json.dumps(_doc(ws)))
    code, text = _run(ws, capsys, str(spec))
    assert code == 0
    assert "test_job SUCCEEDED: 10 predictions, 0 failed" in text
    assert str(ws.out()) in text
    code, text = _run(ws, capsys, str(spec))
    assert code == 0 and "SUCCEEDED" in text, "running it again attaches to the finished job"


def test_partial_success_exits_0_and_shows_errors(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = ws.write("spec.yaml", json.dumps(_doc(ws, "fail_on_bad")))
    code, text = _run(ws, capsys, str(spec))
    assert code == 0
    assert "PARTIALLY_SUCCEEDED: 9 predictions, 1 failed" in text
    assert "ValueError: cannot score 'bad'" in text


def test_failed_job_exits_1_with_error_and_hint(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _doc(ws, "fail_on_bad", policy={"maxFailedInstances": 0})
    spec = ws.write("spec.yaml", json.dumps(doc))
    code, text = _run(ws, capsys, str(spec))
    assert code == 1
    assert "FAILED" in text and "error budget exceeded" in text
    assert "hint" in text and "maxFailedInstances" in text


def test_invalid_spec_prints_diagnostics(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _doc(ws)
    doc["spec"]["outputt"] = {}
    spec = ws.write("spec.yaml", json.dumps(doc))
    code, text = _run(ws, capsys, str(spec))
    assert code == 1
    assert "BS101" in text


def test_several_documents_need_a_name(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _doc(ws), _doc(ws)
    b["metadata"]["name"] = "second"
    b["spec"]["output"] = {"path": "out2"}
    spec = ws.write("spec.yaml", json.dumps(a) + "\n---\n" + json.dumps(b))
    code, text = _run(ws, capsys, str(spec))
    assert code == 1 and "holds 2 jobs" in text and "--name" in text
    code, text = _run(ws, capsys, str(spec), "--name", "second")
    assert code == 0 and "second SUCCEEDED" in text
    code, text = _run(ws, capsys, str(spec), "--name", "third")
    assert code == 1 and "no job named 'third'" in text


def test_detach_then_cancel(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    for f in range(4):
        ws.jsonl(f"in/part-{f}.jsonl", [{"id": f"{f}-{i}", "n": i} for i in range(200)])
    doc = spec_doc(
        model=python_model("tests.engine.helpers.models:slow"),
        input={"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
        resources={"batchSize": 10},
    )
    spec = ws.write("spec.yaml", json.dumps(doc))
    code, text = _run(ws, capsys, str(spec), "--detach")
    assert code == 0 and "runs in the background" in text
    code, text = _run(ws, capsys, str(spec), "--cancel")
    assert code == 0 and ("CANCELLING" in text or "CANCELLED" in text)
    code, text = _run(ws, capsys, str(spec))
    assert code == 1 and "CANCELLED" in text


def test_a_cloud_spec_cannot_run_locally(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    spec = Path(__file__).resolve().parents[2] / "specs" / "census_mlengine.yaml"
    code, text = _run(ws, capsys, str(spec))
    assert code == 1
    assert "census_mlengine.yaml:19:11: error[BS300" in text
    flat = " ".join(text.split())  # the renderer wraps long lines (a long checkout path)
    assert "local cannot use a model given as `name`" in flat and "hint" in flat
