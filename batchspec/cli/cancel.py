"""`batchspec cancel JOB`: ask the backend to stop a job, and record that we did.

A job cancelled this way is not drift, and neither plan nor the controller
resubmits it; `batchspec apply --replace JOB` runs it again.
"""

from __future__ import annotations

import argparse

from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json, wants_json


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
