"""`batchspec logs SPEC`: the log of a spec's job, wherever it ran.

For a Ray job, the log Ray keeps for it: the driver's events (shards
published, actors lost and replaced, the end state) and whatever the actors
printed. For a local job, the events log of its job folder. `--follow`
keeps printing until the job ends.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

FOLLOW_POLL = 1.0


def add_parser(sub: Any) -> None:
    """Register the command."""
    from batchspec.cli.run import add_target_arguments

    p = sub.add_parser(
        "logs",
        help="show the log of a spec's job (local or Ray)",
        description="Print the log of the job a spec describes: Ray's job log for jobs on a"
        " Ray cluster, the events log of the job folder for local jobs.",
    )
    p.add_argument("spec", help="spec file")
    p.add_argument("--name", help="which job, when the file holds several documents")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until the job ends")
    p.add_argument("--home", help="where local jobs live (default: $BATCHSPEC_HOME or .batchspec)")
    add_target_arguments(p, "where the job runs")


def run(args: argparse.Namespace) -> int:
    """Print the log (and follow it)."""
    from rich.console import Console

    from batchspec.backends.base import HasLogs
    from batchspec.cli.run import compile_one, make_backend, remote_name_of
    from batchspec.errors import BatchspecError

    console = Console(highlight=False, stderr=True)
    job = compile_one(args, console)
    if job is None:
        return 1
    backend = make_backend(args, job)
    name = remote_name_of(backend, job)
    if not isinstance(backend, HasLogs):
        raise BatchspecError(f"the {backend.name} backend keeps no log for its jobs")
    shown = 0
    while True:
        text = backend.logs(name)
        sys.stdout.write(text[shown:])
        sys.stdout.flush()
        shown = len(text)
        if not args.follow or backend.get(name).terminal:
            return 0
        time.sleep(FOLLOW_POLL)
