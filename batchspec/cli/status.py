"""`batchspec status`: every job batchspec stands for, at a glance."""

from __future__ import annotations

import argparse
from typing import Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import add_output_option

EXAMPLES = [
    ("batchspec status", "every spec's current job and its state"),
    ("batchspec status --refresh --all -o json", "ask the backends first; every job, as JSON"),
]


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "status",
        help="list jobs and their states",
        description="The current job of every spec name (with --all: every job ever"
        " recorded). --refresh asks the backends first and records what they say.",
    )
    p.add_argument("--all", action="store_true", help="include superseded and forgotten jobs")
    p.add_argument("--refresh", action="store_true", help="ask the backends first")
    add_output_option(p)
    rt.add_state_option(p)


def run(args: argparse.Namespace) -> int:
    """Print the table."""
    with rt.open_state(
        args,
        create=False,
        write="status" if args.refresh else None,
        readonly=not args.refresh,
    ) as store:
        if args.refresh and store.exists:
            from batchspec.reconcile.step import Step, reconcile_step

            step = Step(plan=None)  # observe, record, note drift: no plan
            seen = reconcile_step(store, rt.registry(), None, step, actor=rt.actor("status"))
            for name, message in sorted(seen.observation.failed.items()):
                rt.warn(f"warning: backend {name} could not be listed: {message}")
        records = store.all_jobs() if args.all else list(store.current_jobs().values())
        now = store.now()
    if args.output == "json":
        rt.say(rt.dumps([r.to_dict() for r in records]))
        return 0
    if not records:
        rt.say("No jobs recorded yet. `batchspec apply` submits the specs.")
        return 0
    rows = []
    for r in records:
        total = "?" if r.total_count is None else str(r.total_count)
        progress = f"{r.completed_count}/{total}" + (
            f" ({r.failed_count} failed)" if r.failed_count else ""
        )
        state = r.state.value if r.state else "SUBMITTING"
        if r.missing_since:
            state += " (gone)"
        row = [
            r.name,
            r.target,
            state,
            str(r.attempt),
            r.short_fingerprint,
            progress,
            rt.ago(r.updated_at, now),
            r.remote_name or "-",
        ]
        if args.all:
            row.insert(3, r.disposition.value)
        rows.append(row)
    header = ["JOB", "TARGET", "STATE", "ATTEMPT", "REVISION", "PROGRESS", "UPDATED", "REMOTE"]
    if args.all:
        header.insert(3, "DISPOSITION")
    rt.say(rt.table(rows, header))
    return 0
