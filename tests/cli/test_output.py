"""Output for machines and logs: no wrapping and no colour when stdout is
not a terminal, NO_COLOR and --no-color on a terminal, one console factory."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from batchspec.cli import _output

SGR_COLOUR = re.compile(rb"\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_off_a_terminal_never_wraps_or_colours(monkeypatch, capsys) -> None:
    console = _output.console()
    line = "specs/" + "very-long-folder-name/" * 12 + "spec.yaml:12:7: error[BS101] unknown key"
    console.print(f"[red]{line}[/]")
    assert capsys.readouterr().out == line + "\n"


def test_colour_rules(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = FakeTerminal()
    assert _output.color_wanted(terminal) is True
    assert _output.color_wanted(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert _output.color_wanted(terminal) is False
    monkeypatch.delenv("NO_COLOR")
    _output.set_no_color(True)
    try:
        assert _output.color_wanted(terminal) is False
    finally:
        _output.set_no_color(False)


def test_diagnostics_through_a_pipe_keep_one_line_each(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6)
    deep.mkdir(parents=True)
    spec = deep / "a-spec-file-with-a-long-name.yaml"
    spec.write_text(
        "apiVersion: batchspec.dev/v1\nkind: BatchPredictionJob\nmetadata: {name: x}\n"
        "spec: {target: local, colour: red}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "batchspec", "validate", str(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    located = [line for line in proc.stdout.splitlines() if line.startswith(str(spec))]
    assert located and all(re.match(rf"{re.escape(str(spec))}:\d+:\d+: ", x) for x in located)


def _run_on_pty(argv: list[str], cwd: Path, env: dict[str, str]) -> bytes:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchspec", *argv],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=env,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=300) == 0, seen
    os.close(master)
    return seen


@pytest.mark.parametrize(
    ("extra_env", "flag", "coloured"),
    [({}, [], True), ({"NO_COLOR": "1"}, [], False), ({}, ["--no-color"], False)],
)
def test_run_on_a_terminal(project: Path, extra_env, flag, coloured: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"TERM": "xterm-256color", **extra_env})
    env.pop("FORCE_COLOR", None)
    seen = _run_on_pty([*flag, "run", "specs/tickets_local.yaml"], project, env)
    assert b"SUCCEEDED" in seen
    assert bool(SGR_COLOUR.search(seen)) is coloured
