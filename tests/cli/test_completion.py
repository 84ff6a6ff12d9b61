"""Shell completion: the scripts are generated for bash, zsh and fish, and
the bash one is loaded and driven in a real bash (COMP_WORDS round trips for
a command name, a job name from state, a spec path and an option value).
Answering a <TAB> imports nothing heavy and never writes the state file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batchspec.cli.completion import recorded_names, script

BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="no bash on this machine")

DRIVER = r"""
source <(batchspec completion bash)
complete_line() {
  COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
  read -ra COMP_WORDS <<< "$COMP_LINE"
  [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=()
  _python_argcomplete batchspec
  printf '%s\n' "${COMPREPLY[@]}"
}
complete_line "$1"
"""


def bin_env() -> dict[str, str]:
    """PATH with this interpreter's scripts first (the `batchspec` command)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHSPEC_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def complete(line: str, cwd: Path) -> list[str]:
    proc = subprocess.run(
        [BASH or "bash", "-c", DRIVER, "driver", line],
        cwd=cwd,
        env=bin_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [w.strip() for w in proc.stdout.splitlines() if w.strip()]


@needs_bash
def test_bash_registers_the_completion(tmp_path: Path) -> None:
    proc = subprocess.run(
        [BASH or "bash", "-c", "source <(batchspec completion bash); complete -p batchspec"],
        env=bin_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert proc.stdout.strip().endswith("-F _python_argcomplete batchspec")


@needs_bash
def test_bash_round_trips(applied: Path) -> None:
    state = applied / ".batchspec" / "state.db"
    before = state.stat().st_mtime_ns
    assert complete("batchspec ap", applied) == ["apply"]
    assert "ticket_priority" in complete("batchspec get ticket", applied)
    assert complete("batchspec validate sp", applied) == ["specs/"]
    assert complete("batchspec plan specs/tickets_l", applied) == ["specs/tickets_local.yaml"]
    assert complete("batchspec plan -o ", applied) == ["text", "markdown", "json"]
    logs = complete("batchspec logs ti", applied)
    assert "ticket_priority" in logs
    assert state.stat().st_mtime_ns == before  # read-only


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o"),
        ("zsh", "#compdef batchspec"),
        ("fish", "complete --command batchspec"),
    ],
)
def test_scripts_for_each_shell(shell: str, marker: str) -> None:
    assert marker in script(shell)


def test_completion_imports_nothing_heavy(applied: Path, tmp_path: Path) -> None:
    """A real completion request, with `-X importtime` listing every module."""
    from tests.cli.test_startup import heavy

    answer = tmp_path / "answer"
    env = {
        **bin_env(),
        "_ARGCOMPLETE": "1",
        "COMP_LINE": "batchspec get ",
        "COMP_POINT": str(len("batchspec get ")),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
    }
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "batchspec"],
        cwd=applied,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ticket_priority" in answer.read_text()
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "argcomplete" in modules
    assert heavy(modules) == set()
    assert not any(m == "pydantic" or m.startswith("batchspec.state") for m in modules)


@pytest.mark.parametrize("flag", [None, "other/state.db"])
@pytest.mark.parametrize("env", [None, "from/env.db"])
def test_state_path_agrees_with_the_state_package(monkeypatch, flag, env) -> None:
    from batchspec.cli.completion import state_path
    from batchspec.state import resolve_state_path

    if env is None:
        monkeypatch.delenv("BATCHSPEC_STATE", raising=False)
    else:
        monkeypatch.setenv("BATCHSPEC_STATE", env)
    assert state_path(flag) == resolve_state_path(flag)


def test_recorded_names_of_a_missing_or_broken_file(tmp_path: Path) -> None:
    assert recorded_names(tmp_path / "none.db") == []
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all")
    assert recorded_names(junk) == []
