"""The `batchspec` command: argument parsing and error-to-exit-code mapping.

The commands' surface (names, help, arguments, examples shown at the end of
each `--help`) is data, in `_commands_specs` and `_commands_jobs`; each
command's module holds only its `run(args) -> int` and is imported only to
run it. So `batchspec --help` and a <TAB> import no command module, and a
single command builds only its own parser.

Exit codes, the same for every command (the README's command table lists
them; a test checks each row):

* 0: success; for `plan` and `drift`, also "no changes" / "no drift";
* 1: any error: usage errors (argparse's own 2 is remapped), invalid specs,
  failed jobs, backend and state errors, internal errors;
* 2: only `plan` (changes present) and `drift` (drift found), like
  `terraform plan -detailed-exitcode`;
* 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from batchspec import __version__
from batchspec.cli._commands_jobs import JOB_COMMANDS
from batchspec.cli._commands_specs import SPEC_COMMANDS
from batchspec.cli._surface import Command

# PYTHON_ARGCOMPLETE_OK (argcomplete's marker: this entry point completes itself)

# name -> command; order is the order in `--help`.
COMMANDS: dict[str, Command] = {c.name: c for c in (*SPEC_COMMANDS, *JOB_COMMANDS)}

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name].module)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, one sub-parser per registered command; with `only`,
    just that command's (importing every command module costs start-up time
    a single command does not need)."""
    from batchspec.cli._parser import HelpFormatter, Parser, add_no_color, attach
    from batchspec.cli._surface import add_command

    parser = Parser(
        prog="batchspec",
        description="Batch prediction jobs as code: validate, render, plan, apply, reconcile.",
        epilog="`batchspec COMMAND --help` shows a command's options and examples.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"batchspec {__version__}")
    add_no_color(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in [COMMANDS[only]] if only in COMMANDS else COMMANDS.values():
        attach(add_command(sub, command), command.examples)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "_ARGCOMPLETE" in os.environ:
        from batchspec.cli.completion import complete

        complete(build_parser())  # prints the candidates and exits
    first = argv[0] if argv else None
    if first is not None and not first.startswith("-") and first not in COMMANDS:
        from batchspec.cli._parser import unknown_command

        print(unknown_command(first, COMMANDS), file=sys.stderr)
        return EXIT_ERROR
    parser = build_parser(only=first)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            from batchspec.cli._parser import unrecognized

            unrecognized(parser, args.command, extra)
    except SystemExit as stop:  # --help, --version (0) and usage errors (1)
        return stop.code if isinstance(stop.code, int) else EXIT_ERROR
    from batchspec.cli import _output

    _output.set_no_color(bool(getattr(args, "no_color", False)))
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command and map what it raises onto an exit code."""
    from batchspec.errors import BatchspecError

    try:
        code: int = _command_module(args.command).run(args)
        return code
    except BatchspecError as exc:
        _print_error(exc.message, exc.hint)
        return EXIT_ERROR
    except KeyboardInterrupt:
        _print_error("interrupted", None)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `batchspec ... | head` closed the pipe: not an error worth a message.
        _quiet_stdout()
        return EXIT_OK
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("BATCHSPEC_DEBUG"):
            raise
        _print_error(
            f"internal error: {type(exc).__name__}: {exc}",
            "this is a bug in batchspec; rerun with BATCHSPEC_DEBUG=1 for the traceback"
            " and report it",
        )
        return EXIT_ERROR


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of a closed
    pipe prints nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _print_error(message: str, hint: str | None) -> None:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"  hint: {hint}", file=sys.stderr)
