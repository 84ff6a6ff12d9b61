"""`batchspec runs JOB`: the runs of a recurring spec, past and next.

One row per decided tick (or input change): when it was scheduled on the
schedule's wall clock, its run key, its state (the job's, or MISSED /
SKIPPED with the reason), counts and where its outputs are. By default the
unfinished runs and the newest `keep` finished ones (the spec's
`schedule.keep`); `--all` shows every run history holds.
"""

from __future__ import annotations

import argparse
from typing import Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json, wants_json
from batchspec.errors import StateError


def run(args: argparse.Namespace) -> int:
    """Print the runs."""
    from batchspec.plan.runs import overview

    with rt.open_state(args, create=False, readonly=True) as store:
        now = store.now()
        found = overview(store, args.job, now) if store.exists else None
    if found is None:
        raise StateError(
            f"no recurring spec {args.job!r} in state",
            hint="a spec with spec.schedule or spec.trigger is recorded by `batchspec apply`;"
            " `batchspec status` lists every job",
        )
    if wants_json(args):
        emit_json(found.to_dict(every=args.all))
        return 0
    rt.say(f"{found.name}: {found.recurrence.describe()}")
    runs = found.runs if args.all else found.kept()
    if runs:
        rt.say("")
        rt.say(rt.table([_row(found, r) for r in runs], list(HEADER)))
        hidden = len(found.runs) - len(runs)
        if hidden:
            rt.say(f"  ({hidden} older run(s); --all lists them)")
    else:
        rt.say("  no runs yet")
    if found.record is not None and found.record.error:
        rt.warn(f"warning: the inputs could not be listed: {found.record.error}")
    rt.say("")
    nexts = ", ".join(found.shown(t) for t in found.upcoming) or "when its inputs change"
    rt.say(f"next: {nexts}")
    return 0


HEADER = ("SCHEDULED", "RUN KEY", "STATE", "PROGRESS", "OUTPUT / REASON")


def _row(found: Any, run: Any) -> list[str]:
    job = run.job
    if job is None:
        return [found.shown(run.scheduled_at), run.run_key, run.state, "-", run.reason or ""]
    total = "?" if job.total_count is None else str(job.total_count)
    progress = f"{job.completed_count}/{total}" + (
        f" ({job.failed_count} failed)" if job.failed_count else ""
    )
    failed = job.state is not None and job.state.terminal and not job.state.successful
    where = (job.error if failed else None) or job.output_location or job.remote_name or ""
    return [found.shown(run.scheduled_at), run.run_key, run.state, progress, where]
