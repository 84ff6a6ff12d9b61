"""`apply` on a terminal shows the plan and asks, like terraform: tested
through a pseudo-terminal with an answer typed in. `--yes`, or no terminal
on stdin, never asks."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchspec.cli.main import main

QUESTION = b"Enter a value:"
PATIENCE = 120.0  # seconds for a line to appear on a loaded machine


class Terminal:
    """A batchspec process whose stdin, stdout and stderr are a pty."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "BATCHSPEC_STATE")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "batchspec", *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.seen = b""

    def wait_for(self, text: bytes) -> None:
        """Read until `text` has been printed (or fail with what was)."""
        deadline = time.monotonic() + PATIENCE
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; got:\n{self.seen.decode(errors='replace')}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk or text in self.seen, f"ended before {text!r}:\n{self.seen!r}"
                self.seen += chunk

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def finish(self) -> int:
        """Drain the output until the process exits; its exit code."""
        while True:
            ready, _, _ = select.select([self.master], [], [], PATIENCE)
            if not ready:
                break
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        code = self.proc.wait(timeout=PATIENCE)
        os.close(self.master)
        return code


def recorded(capsys) -> list[str]:
    capsys.readouterr()
    assert main(["status", "-o", "json"]) == 0
    return [job["name"] for job in json.loads(capsys.readouterr().out)]


def test_yes_applies(project: Path, capsys) -> None:
    term = Terminal(["apply", "--target", "local"], project)
    term.wait_for(QUESTION)
    assert b"+ create" in term.seen and b"ticket_priority" in term.seen  # the plan first
    assert b"Do you want to perform these actions?" in term.seen
    term.type("yes")
    assert term.finish() == 0
    assert b"Apply complete: 1 created." in term.seen
    assert recorded(capsys) == ["ticket_priority"]


@pytest.mark.parametrize("answer", ["no", ""])
def test_anything_but_yes_changes_nothing(project: Path, capsys, answer: str) -> None:
    term = Terminal(["apply", "--target", "local"], project)
    term.wait_for(QUESTION)
    term.type(answer)
    assert term.finish() == 1
    assert b"Apply cancelled: nothing was changed." in term.seen
    assert recorded(capsys) == []


def test_yes_flag_never_asks(project: Path, capsys) -> None:
    term = Terminal(["apply", "--target", "local", "--yes"], project)
    assert term.finish() == 0
    assert QUESTION not in term.seen
    assert recorded(capsys) == ["ticket_priority"]


def test_no_terminal_on_stdin_never_asks(project: Path, capsys) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "batchspec", "apply", "--target", "local"],
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert QUESTION not in proc.stderr + proc.stdout
    assert recorded(capsys) == ["ticket_priority"]


def test_a_saved_plan_is_not_asked_about(project: Path, capsys) -> None:
    assert main(["plan", "--target", "local", "--out", "plan.json"]) == 2
    term = Terminal(["apply", "plan.json"], project)
    assert term.finish() == 0
    assert QUESTION not in term.seen and b"Applying saved plan plan.json" in term.seen
    assert recorded(capsys) == ["ticket_priority"]


def test_json_on_a_terminal_needs_yes(project: Path, capsys) -> None:
    term = Terminal(["apply", "--target", "local", "-o", "json"], project)
    assert term.finish() == 1
    assert b"-o json on a terminal needs --yes" in term.seen
    assert recorded(capsys) == []


def test_dry_run_changes_nothing(project: Path, capsys) -> None:
    assert main(["apply", "--target", "local", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "+ create" in out and "Dry run: nothing was applied." in out
    assert not (project / ".batchspec" / "state.db").exists()
    assert main(["reconcile", "--target", "local", "--dry-run"]) == 0
    assert "nothing was done" in capsys.readouterr().out
    assert not (project / ".batchspec" / "state.db").exists()
