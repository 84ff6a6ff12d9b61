"""The `batchspec` command: argument parsing and error-to-exit-code mapping.

Each sub-command lives in its own module with `add_parser(subparsers)` and
`run(args) -> int`. Modules are imported only to build the parser, and they
import nothing heavy at module level, so `batchspec --help` and
`batchspec validate` start fast.

Exit codes: 0 success, 1 errors (invalid specs, failed jobs, backend errors),
2 "changes present" for plan/drift (like `terraform plan -detailed-exitcode`),
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from batchspec import __version__

# name -> module; order is the order in `--help`.
COMMANDS: dict[str, str] = {
    "validate": "batchspec.cli.validate",
    "schema": "batchspec.cli.schema",
    "render": "batchspec.cli.render",
    "import": "batchspec.cli.import_",
    "run": "batchspec.cli.run",
    "plan": "batchspec.cli.plan",
    "apply": "batchspec.cli.apply",
    "reconcile": "batchspec.cli.reconcile",
    "drift": "batchspec.cli.drift",
    "status": "batchspec.cli.status",
    "get": "batchspec.cli.get",
    "history": "batchspec.cli.history",
    "cancel": "batchspec.cli.cancel",
    "results": "batchspec.cli.results",
    "logs": "batchspec.cli.logs",
    "ui": "batchspec.cli.ui",
    "report": "batchspec.cli.report",
    "state": "batchspec.cli.state",
}

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name])


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, one sub-parser per registered command; with `only`,
    just that command's (importing every command module costs start-up time
    a single command does not need)."""
    parser = argparse.ArgumentParser(
        prog="batchspec",
        description="Batch prediction jobs as code: validate, render, plan, apply, reconcile.",
    )
    parser.add_argument("--version", action="version", version=f"batchspec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only in COMMANDS else COMMANDS:
        _command_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    from batchspec.errors import BatchspecError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_ERROR
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
        sys.stderr.close()
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


def _print_error(message: str, hint: str | None) -> None:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"  hint: {hint}", file=sys.stderr)
