"""`batchspec status`: every job batchspec stands for, at a glance."""

from __future__ import annotations

import argparse
from typing import Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json, wants_json


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
        recurring = _recurring(store, records, now)
    if wants_json(args):
        emit_json([_with_runs(r.to_dict(), recurring) for r in records])
        return 0
    if not records and not recurring:
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
    if rows:
        rt.say(rt.table(rows, header))
    if recurring:
        rt.say("")
        rt.say(rt.table([_schedule_row(o) for o in recurring.values()], list(SCHEDULE_HEADER)))
    return 0


SCHEDULE_HEADER = ("RECURRING", "SCHEDULE", "LAST RUN", "STATE", "NEXT RUN")


def _recurring(store: Any, records: list[Any], now: Any) -> dict[str, Any]:
    """Name -> runs overview of every recurring spec recorded (with or without runs)."""
    from batchspec.plan.runs import overview

    if not store.exists:
        return {}
    names = sorted({r.name for r in records} | set(store.schedules()))
    found = {name: overview(store, name, now) for name in names}
    return {name: o for name, o in found.items() if o is not None}


def _with_runs(data: dict[str, Any], recurring: dict[str, Any]) -> dict[str, Any]:
    """A recurring spec's record with its schedule, last and next run."""
    found = recurring.get(data["name"])
    if found is None:
        return data
    last = found.last
    data["recurring"] = {
        "schedule": found.recurrence.describe(),
        "lastRun": last.to_dict() if last else None,
        "next": found.to_dict()["next"],
    }
    return data


def _schedule_row(found: Any) -> list[str]:
    last = found.last
    return [
        found.name,
        found.recurrence.describe(),
        f"{found.shown(last.scheduled_at)} ({last.run_key})" if last else "-",
        last.state if last else "-",
        found.shown(found.next) if found.next else "when its inputs change",
    ]
