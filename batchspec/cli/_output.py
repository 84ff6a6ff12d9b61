"""How every command prints: one output-format option, one console factory.

Why one place: CI logs, pipes and editors' problem matchers read batchspec's
output line by line. Rich wraps at 80 columns when stdout is not a terminal,
which splits `file:line:col` locations and long paths; colour codes end up in
log files. Every command builds its consoles here, so the rules hold for all
of them, including commands added later:

* never wrap or crop when the stream is not a terminal (`soft_wrap`, a wide
  width), and never emit colour then;
* `NO_COLOR` (https://no-color.org) and `--no-color` turn colour off on a
  terminal too; `FORCE_COLOR` is left to Rich;
* `-o json` prints one JSON document (or JSON lines for streams) on stdout and
  nothing else there; progress and warnings go to stderr.

Nothing heavy is imported at module level: Rich loads only when a console is
asked for.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

# Wide enough that no real line is ever wrapped, small enough for Rich's maths.
NO_WRAP_WIDTH = 1 << 16

_settings = {"no_color": False}


def set_no_color(value: bool) -> None:
    """Record `--no-color` (main calls this once, before the command runs)."""
    _settings["no_color"] = value


def color_wanted(stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR or --no-color."""
    stream = stream or sys.stdout
    if _settings["no_color"] or os.environ.get("NO_COLOR", "") != "":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def console(*, stderr: bool = False) -> Console:
    """A Rich console that follows the rules above."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    terminal = bool(getattr(stream, "isatty", None) and stream.isatty())
    color = color_wanted(stream)
    if terminal:
        return Console(
            stderr=stderr,
            highlight=False,
            no_color=not color,
            color_system="auto" if color else None,
        )
    return Console(
        stderr=stderr,
        highlight=False,
        no_color=True,
        color_system=None,
        soft_wrap=True,
        width=NO_WRAP_WIDTH,
        force_terminal=False,
        force_interactive=False,
    )


def console_for(args: argparse.Namespace) -> Console:
    """The console a command talks to people on: stdout, or stderr when stdout
    carries `-o json`."""
    return console(stderr=wants_json(args))


def wants_json(args: argparse.Namespace) -> bool:
    """True when the command was asked for `-o json`."""
    return getattr(args, "output", None) == "json"


def dumps(data: Any) -> str:
    """Pretty, stable JSON (keys in the order the command built them)."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    print(dumps(data), flush=True)


def emit_json_line(data: Any) -> None:
    """Print one JSON value on one line (streams: logs, follow)."""
    print(json.dumps(data, ensure_ascii=False, default=str), flush=True)
