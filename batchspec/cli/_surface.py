"""The CLI's surface as data: each command's name, help, description,
examples and arguments, and the option groups commands share.

Why data rather than an `add_parser` function per command: the 21 commands
registered themselves with the same dozen lines each (add the parser, add
the arguments, add the shared `-o`, `--state`, `--select` options), and the
shared options were copied by hand into each. As data, the surface is read in
one place (the tables in `_commands_specs` and `_commands_jobs`), the shared
groups are defined once, and building a parser needs no command module: a
command's module is imported only to run it.

Nothing here imports more than argparse: `batchspec --help`, a <TAB> and
`batchspec validate` all build parsers from these tables.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from batchspec.cli._parser import Example, Formatter, HelpFormatter


class Arg(NamedTuple):
    """One argument: the names and keywords of its `add_argument` call.

    The surface's records are NamedTuples, not dataclasses, because every
    command's start-up builds them (see `batchspec.diagnostics.Diagnostic`)."""

    flags: tuple[str, ...]
    options: Mapping[str, Any]

    def add_to(self, parser: Any) -> None:
        # A fresh copy of list defaults and choices for each parser, as the
        # add_argument calls written out once gave.
        options = {k: list(v) if isinstance(v, list) else v for k, v in self.options.items()}
        parser.add_argument(*self.flags, **options)


class Exclusive(NamedTuple):
    """Arguments of which at most one may be given."""

    args: tuple[Arg, ...]

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for one in self.args:
            one.add_to(group)


class Command(NamedTuple):
    """A command (or an action of one, such as `state push`): what its
    `--help` says and the arguments it takes, in the order `--help` lists
    them. `module` holds its `run(args) -> int`; `actions`, its sub-commands."""

    name: str
    help: str
    description: str | None = None
    args: tuple[Arg | Exclusive, ...] = ()
    examples: tuple[Example, ...] = ()
    module: str = ""
    actions: tuple[Command, ...] = ()


def arg(*flags: str, **options: Any) -> Arg:
    """An argument, written as the `add_argument` call it stands for."""
    return Arg(flags, options)


def flag(*flags: str, help: str) -> Arg:
    """An on/off option (`store_true`)."""
    return Arg(flags, {"action": "store_true", "help": help})


def seconds(name: str, default: float, help: str) -> Arg:
    """A duration option in seconds (a float, shown as SECONDS in --help)."""
    return arg(name, type=float, default=default, metavar="SECONDS", help=help)


def output(choices: Sequence[str] = ("text", "json"), *, help: str | None = None) -> Arg:
    """`-o/--output FORMAT`, the same flag for every command (`text` first
    unless the command's natural output is another format)."""
    listed = list(choices)
    return arg(
        "--output",
        "-o",
        choices=listed,
        default=listed[0],
        metavar="FORMAT",
        help=help or f"output format: {', '.join(listed)} (default: {listed[0]})",
    )


OUTPUT = output()

STATE = arg(
    "--state",
    metavar="PATH",
    help="state file, or gs://BUCKET/PREFIX for state shared through Cloud Storage"
    " (default: $BATCHSPEC_STATE, else .batchspec/state.db)",
)

# Commands that write state also accept `--init`.
WRITING_STATE = (
    STATE,
    arg(
        "--init",
        action="store_true",
        help="accept an empty (0-byte) state file and start new state in it; without"
        " it an empty file is refused (it usually means lost state, not new state)",
    ),
)

LEASE = (
    seconds(
        "--lock-timeout",
        0.0,
        "wait this long for another apply/reconcile to finish (default: fail at once)",
    ),
    flag("--break-lease", help="take the lease even from a live holder (logged in the audit log)"),
    seconds("--lease-ttl", 60.0, "lease expiry without heartbeat (default 60)"),
)

SELECT = (
    arg(
        "--select",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only jobs whose name matches this glob (repeatable); nothing else is removed",
    ),
    arg(
        "--target",
        action="append",
        default=[],
        dest="targets",
        metavar="TARGET",
        help="only specs for this target, e.g. `--target local` (repeatable)",
    ),
)

RETIRED = flag(
    "--allow-retired",
    help="submit specs whose service was shut down (target: mlengine) anyway; without it"
    " they are planned, shown and not submitted",
)

JOB = arg("job", help="spec name, remote name or #ID")

HOME = arg("--home", help="where local jobs live (default: $BATCHSPEC_HOME or .batchspec)")


def target_args(what: str) -> tuple[Arg, ...]:
    """--target and --address of `run` and `logs` (a local or Ray job)."""
    return (
        arg(
            "--target",
            choices=["local", "ray"],
            help=f"{what}: the local engine or a Ray cluster (default: ray for specs with"
            " `target: ray`, else local)",
        ),
        arg(
            "--address",
            help="Ray cluster address, e.g. http://head-node:8265 (default: the spec's"
            " `ray.address`, $BATCHSPEC_RAY_ADDRESS, $RAY_ADDRESS)",
        ),
    )


def add_command(
    sub: Any, command: Command, layout: type[Formatter] = HelpFormatter
) -> argparse.ArgumentParser:
    """Add `command`'s parser (and its actions', whose descriptions argparse
    refills) to the sub-parsers `sub`."""
    parser: argparse.ArgumentParser = sub.add_parser(
        command.name,
        help=command.help,
        description=command.description,
        formatter_class=layout,  # before its arguments: argparse formats each as added
    )
    for one in command.args:
        one.add_to(parser)
    if command.actions:
        actions = parser.add_subparsers(dest="action", metavar="ACTION")
        for action in command.actions:
            add_command(actions, action, Formatter)
    return parser
