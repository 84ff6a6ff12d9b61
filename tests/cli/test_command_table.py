"""The README's command table, row by row: every command is listed, its `-o`
formats are the ones the parser accepts, and each exit code it documents is
produced by a real run (in a project made by `batchspec init`). Also: a usage
error exits 1 for every command, never argparse's 2."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batchspec.cli.main import COMMANDS, build_parser, main
from tests.cli.conftest import break_spec
from tests.conftest import REPO

HEADER = "| command | what it does | `-o` | exit codes |"


def table_rows() -> dict[str, tuple[list[str], str]]:
    """command -> (the -o formats listed, the exit-code text)."""
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(HEADER) + 2
    rows: dict[str, tuple[list[str], str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        name = cells[0].strip("`").split()[1]
        formats = re.findall(r"`([a-z]+)`", cells[2])
        rows[name] = (formats, cells[3])
    return rows


ROWS = table_rows()


def json_of(capsys, argv: list[str], code: int = 0) -> Any:
    """Run a command with `-o json` (output captured fresh) and parse stdout."""
    capsys.readouterr()
    assert main([*argv, "-o", "json"]) == code
    return json.loads(capsys.readouterr().out)


def test_every_command_has_a_row() -> None:
    assert set(ROWS) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_output_formats_match_the_parser(name: str) -> None:
    parser = build_parser(only=name)
    sub = next(a for a in parser._actions if a.dest == "command").choices[name]  # type: ignore[attr-defined]
    output = next((a for a in sub._actions if a.dest == "output"), None)
    formats, _codes = ROWS[name]
    choices = list(output.choices) if output is not None and output.choices else []
    assert choices == formats


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_usage_errors_exit_1(name: str, capsys) -> None:
    assert main([name, "--no-such-flag"]) == 1
    assert f"batchspec {name}: error:" in capsys.readouterr().err


# --- one scenario per row: each exit code the row documents -----------------------


def s_init(root: Path, capsys) -> set[int]:
    assert main(["init", "again"]) == 0  # 0 written
    assert main(["init"]) == 1  # 1 files exist (the fixture already ran init here)
    assert "specs/tickets_local.yaml" in capsys.readouterr().err
    return {0, 1}


def s_validate(root: Path, capsys) -> set[int]:
    assert main(["validate"]) == 0
    report = json_of(capsys, ["validate"])
    assert report["ok"] is True and report["errors"] == 0
    break_spec(root)
    assert main(["validate"]) == 1
    return {0, 1}


def s_schema(root: Path, capsys) -> set[int]:
    capsys.readouterr()
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["$id"] == (
        "https://json.schemastore.org/batchspec-v1.json"
    )
    assert main(["schema", "--path"]) == 0
    assert Path(capsys.readouterr().out.strip()).is_file()
    return {0}


def s_render(root: Path, capsys) -> set[int]:
    assert json_of(capsys, ["render", "specs/tickets_vertex.yaml"])["target"] == "vertex"
    assert main(["render", str(break_spec(root))]) == 1
    return {0, 1}


def s_import(root: Path, capsys) -> set[int]:
    from tests.migrate.test_body import BODY

    (root / "job.json").write_text(json.dumps(BODY))
    assert main(["import", "job.json", "-o", "specs/census.yaml"]) == 0
    assert main(["import", "missing.json"]) == 1
    return {0, 1}


def s_run(root: Path, capsys) -> set[int]:
    job = json_of(capsys, ["run", "specs/tickets_local.yaml"])
    assert job["state"] == "SUCCEEDED" and job["completedCount"] == 6
    assert any("prediction.results-" in f for f in job["outputs"])
    assert main(["run", str(break_spec(root))]) == 1
    return {0, 1}


def s_plan(root: Path, capsys) -> set[int]:
    assert main(["plan", "--target", "local"]) == 2
    assert main(["apply", "--target", "local", "--yes"]) == 0
    plan = json_of(capsys, ["plan", "--target", "local"])
    assert [a["kind"] for a in plan["actions"]] == ["noop"]
    break_spec(root)
    assert main(["plan"]) == 1
    return {0, 1, 2}


def s_apply(root: Path, capsys) -> set[int]:
    doc = json_of(capsys, ["apply", "--target", "local", "--yes", "--wait"])
    assert set(doc) == {"ok", "dryRun", "plan", "applied", "summary", "jobs", "models"}
    assert doc["summary"] == {"created": 1} and doc["jobs"][0]["state"] == "SUCCEEDED"
    assert main(["apply", "--target", "local"]) == 0  # nothing to do
    assert "No changes" in capsys.readouterr().out
    break_spec(root)
    assert main(["apply", "--yes"]) == 1
    return {0, 1}


def s_reconcile(root: Path, capsys) -> set[int]:
    assert json_of(capsys, ["reconcile", "--target", "local", "--dry-run"])["dryRun"] is True
    assert main(["reconcile", "--target", "local", "--once", "-o", "json"]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["pass"] == 1 and line["actions"][0]["action"] == "create"
    break_spec(root)
    assert main(["reconcile", "--once"]) == 1
    return {0, 1}


def s_drift(root: Path, capsys) -> set[int]:
    assert main(["apply", "--target", "local", "--wait", "--yes", "--interval", "0.1"]) == 0
    assert main(["drift", "--target", "local"]) == 0
    spec = root / "specs" / "tickets_local.yaml"
    spec.write_text(spec.read_text().replace("batchSize: 64", "batchSize: 32"))
    assert json_of(capsys, ["drift", "--target", "local"], code=2)["drift"]
    break_spec(root)
    assert main(["drift"]) == 1
    return {0, 1, 2}


def _applied(capsys) -> None:
    assert main(["apply", "--target", "local", "--wait", "--yes", "--interval", "0.1"]) == 0
    capsys.readouterr()


def s_status(root: Path, capsys) -> set[int]:
    _applied(capsys)
    assert json_of(capsys, ["status"])[0]["name"] == "ticket_priority"
    (root / "folder.db").mkdir()
    assert main(["status", "--state", "folder.db"]) == 1
    return {0, 1}


def s_runs(root: Path, capsys) -> set[int]:
    spec = root / "specs" / "tickets_local.yaml"
    text = spec.read_text().replace("path: ../out/ticket_priority", "path: ../out/tickets/{run.id}")
    spec.write_text(text + "  schedule:\n    cron: '0 2 * * *'\n    timeZone: Europe/Berlin\n")
    argv = ["apply", "--target", "local", "--now", "--wait", "--yes", "--interval", "0.1"]
    assert main(argv) == 0
    doc = json_of(capsys, ["runs", "ticket_priority"])
    assert doc["runs"][0]["state"] == "SUCCEEDED" and len(doc["next"]) == 3
    assert main(["runs", "nope"]) == 1
    return {0, 1}


def s_get(root: Path, capsys) -> set[int]:
    _applied(capsys)
    assert json_of(capsys, ["get", "ticket_priority"])["state"] == "SUCCEEDED"
    assert main(["get", "nope"]) == 1
    return {0, 1}


def s_history(root: Path, capsys) -> set[int]:
    _applied(capsys)
    assert json_of(capsys, ["history", "ticket_priority"])["transitions"]
    (root / "folder.db").mkdir()
    assert main(["history", "--state", "folder.db"]) == 1
    return {0, 1}


def s_cancel(root: Path, capsys) -> set[int]:
    _applied(capsys)
    doc = json_of(capsys, ["cancel", "ticket_priority"])
    assert doc["cancelRequested"] is False and doc["job"]["state"] == "SUCCEEDED"
    assert main(["cancel", "nope"]) == 1
    return {0, 1}


def s_results(root: Path, capsys) -> set[int]:
    _applied(capsys)
    capsys.readouterr()
    assert main(["results", "ticket_priority"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 6
    assert main(["results", "nope"]) == 1
    return {0, 1}


def s_logs(root: Path, capsys) -> set[int]:
    _applied(capsys)
    capsys.readouterr()
    assert main(["logs", "ticket_priority", "-o", "json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rows[-1]["message"] == "finished: SUCCEEDED"
    assert main(["logs", "specs/tickets_local.yaml"]) == 0
    assert main(["logs", "nope"]) == 1
    return {0, 1}


def s_ui(root: Path, capsys) -> set[int]:
    import signal
    import subprocess
    import sys

    _applied(capsys)
    assert main(["ui", "--host", "0.0.0.0"]) == 1  # another interface needs --allow-remote
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchspec", "ui", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the ready line
        assert "127.0.0.1" in line, line
        proc.send_signal(signal.SIGINT)  # a person stopping it: "interrupted"
        assert proc.wait(timeout=120) == 130
    finally:
        proc.kill()
        proc.wait()
    return {1}


def s_report(root: Path, capsys) -> set[int]:
    _applied(capsys)
    assert main(["report", "--html", "report.html"]) == 0
    assert (root / "report.html").stat().st_size > 0
    break_spec(root)
    assert main(["report", "--html", "report.html"]) == 1
    return {0, 1}


def s_state(root: Path, capsys) -> set[int]:
    import os

    pytest.importorskip("google.cloud.storage")
    from batchspec.testing.gcs import StorageDouble

    _applied(capsys)
    url = "gs://team-state/prod"
    assert main(["state", "lock-info", "--state", ".batchspec/state.db"]) == 1  # not remote
    before = os.environ.get("STORAGE_EMULATOR_HOST")
    with StorageDouble() as double:
        double.create_bucket("team-state")
        os.environ["STORAGE_EMULATOR_HOST"] = double.url
        try:
            assert main(["state", "push", ".batchspec/state.db", "--state", url]) == 0
            info = json_of(capsys, ["state", "lock-info", "--state", url])
            assert info["lock"] is None and info["state"]["generation"] > 0
        finally:
            if before is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = before
    return {0, 1}


def s_completion(root: Path, capsys) -> set[int]:
    for shell in ("bash", "zsh", "fish"):
        capsys.readouterr()
        assert main(["completion", shell]) == 0
        assert "batchspec" in capsys.readouterr().out
    return {0}


SCENARIOS: dict[str, Callable[[Path, Any], set[int]]] = {
    name.removeprefix("s_"): fn for name, fn in globals().items() if name.startswith("s_")
}


def test_every_row_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ROWS)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_row(name: str, project: Path, capsys) -> None:
    seen = SCENARIOS[name](project, capsys)
    documented = {int(c) for c in re.findall(r"\b([012])\b", ROWS[name][1])}
    assert seen == documented, f"{name}: the README documents {documented}, the run saw {seen}"
