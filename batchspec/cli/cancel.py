"""`batchspec cancel JOB`: ask the backend to stop a job, and record that we did.

A job cancelled this way is not drift, and neither plan nor the controller
resubmits it; `batchspec apply --replace JOB` runs it again.
"""

from __future__ import annotations

import argparse
from typing import Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import add_output_option, emit_json, wants_json

EXAMPLES = [
    ("batchspec cancel review_sentiment", "cancel the current job of a spec"),
    ("batchspec cancel review_sentiment --reason 'bad input' -o json", "record why; JSON out"),
]


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "cancel",
        help="cancel a running job",
        description="JOB is a spec name (its current job), a remote job name, or #ID.",
    )
    p.add_argument("job", help="spec name, remote name or #ID")
    p.add_argument("--reason", default="cancelled by a user", help="recorded with the cancel")
    add_output_option(p)
    rt.add_state_option(p)


def run(args: argparse.Namespace) -> int:
    """Cancel and record."""
    from batchspec.cli.get import find
    from batchspec.errors import StateError
    from batchspec.reconcile.executor import Executor

    with rt.open_state(args, create=False, write="cancel") as store:
        record = find(store, args.job)
        if record.remote_name is None:
            raise StateError(
                f"job {record.name!r} was never confirmed submitted; nothing to cancel yet",
                hint="`batchspec apply` resolves the interrupted submit first",
            )
        if record.terminal:
            if wants_json(args):
                emit_json({"cancelRequested": False, "job": record.to_dict()})
            else:
                ended = record.state.value if record.state else ""
                rt.say(f"{record.name}: already ended {ended}")
            return 0
        executor = Executor(store, rt.registry(), actor=rt.actor("cancel"))
        record = executor.cancel(record, reason=args.reason)
    if wants_json(args):
        emit_json({"cancelRequested": True, "job": record.to_dict()})
        return 0
    state = record.state.value if record.state else "?"
    rt.say(f"{record.name}: cancel requested for {record.remote_name} (now {state})")
    return 0
