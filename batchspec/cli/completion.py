"""`batchspec completion bash|zsh|fish`: the shell's tab completion script.

Completion goes through argcomplete (kept up to date, and the only one of
argcomplete and shtab that asks the program itself at completion time, which
job names from recorded state need). The script calls `batchspec` with
argcomplete's environment; `main` then builds the parser, attaches the
completers below and answers without running anything. It imports no cloud
client, model runtime or Rich, and reads state through a read-only SQLite
connection (no migration, no lock, no file created), so a <TAB> stays fast.

Completed: command names and options everywhere; spec files and folders
(`*.yaml`, `*.yml`, folders; plan files for `apply`) for PATHS/SPEC
arguments; job names (spec names and remote names from state) for JOB
arguments; choices such as `-o json`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

SPEC_SUFFIXES = (".yaml", ".yml")
SPEC_DESTS = {"paths", "spec", "path"}
JOB_DESTS = {"job"}
JOB_OR_SPEC_DESTS = {"ref"}
STATE_ENV = "BATCHSPEC_STATE"
DEFAULT_STATE = ".batchspec/state.db"


def run(args: argparse.Namespace) -> int:
    """Print the script."""
    sys.stdout.write(script(args.shell))
    return 0


def script(shell: str) -> str:
    """The completion script for `shell`."""
    from argcomplete.shell_integration import shellcode

    return shellcode(["batchspec"], shell=shell)


def complete(parser: argparse.ArgumentParser) -> NoReturn:
    """Answer one completion request (argcomplete's environment is set) and exit."""
    import argcomplete

    attach_completers(parser)
    argcomplete.autocomplete(parser, always_complete_options="long")
    # autocomplete exits when it answered; reaching here means the
    # environment was not a completion request after all.
    sys.exit(0)


def attach_completers(parser: argparse.ArgumentParser) -> None:
    """Spec paths and job names, by argument name, for every command (also
    commands added later that use the same names)."""
    for action in _actions(parser):
        if action.option_strings:
            if action.dest == "state":
                action.completer = spec_paths  # type: ignore[attr-defined]
            continue
        if action.dest in SPEC_DESTS:
            action.completer = spec_paths  # type: ignore[attr-defined]
        elif action.dest in JOB_DESTS:
            action.completer = job_names  # type: ignore[attr-defined]
        elif action.dest in JOB_OR_SPEC_DESTS:
            action.completer = jobs_and_specs  # type: ignore[attr-defined]


def _actions(parser: argparse.ArgumentParser) -> Iterable[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _actions(sub)


def spec_paths(prefix: str, **_: Any) -> list[str]:
    """Folders and spec files (and saved plans) under what was typed so far."""
    folder, _sep, start = prefix.rpartition("/")
    base = Path(folder + "/") if _sep else Path(".")
    try:
        entries = sorted(base.iterdir())
    except OSError:
        return []
    out = []
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name.startswith(".") and not start):
            continue
        shown = f"{folder}/{entry.name}" if _sep else entry.name
        if entry.is_dir():
            out.append(shown + "/")
        elif entry.suffix in (*SPEC_SUFFIXES, ".json", ".db"):
            out.append(shown)
    return out


def state_path(flag: str | None) -> Path:
    """`batchspec.state.resolve_state_path`'s answer, without importing the
    state package (it loads the spec models: most of a <TAB>'s time). A test
    holds the two to the same answer."""
    return Path(flag or os.environ.get(STATE_ENV) or DEFAULT_STATE)


def job_names(prefix: str, parsed_args: argparse.Namespace | None = None, **_: Any) -> list[str]:
    """Spec and remote job names recorded in the state file (read-only)."""
    names = recorded_names(state_path(getattr(parsed_args, "state", None)))
    return [n for n in names if n.startswith(prefix)]


def jobs_and_specs(prefix: str, **kwargs: Any) -> list[str]:
    """Job names, then spec files (`logs` takes either)."""
    return job_names(prefix, **kwargs) + spec_paths(prefix)


def recorded_names(path: str | os.PathLike[str]) -> list[str]:
    """Job names in a state file; empty when there is none or it cannot be read.

    A read-only URI connection: completing must never create, migrate or
    lock the file a controller may be writing.
    """
    import sqlite3

    target = Path(path)
    if not target.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return []
    try:
        rows = conn.execute(
            "SELECT name FROM jobs WHERE disposition != 'forgotten'"
            " UNION SELECT remote_name FROM jobs WHERE remote_name IS NOT NULL"
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return sorted({str(r[0]) for r in rows if r[0]})
