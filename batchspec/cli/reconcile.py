"""`batchspec reconcile [PATHS]`: the controller.

Runs pass after pass (or one with `--once`) under the controller lease: reads
the specs again, observes the backends, records what changed, acts, and
enforces deadlines and retries. SIGTERM (or Ctrl-C) stops it after the
current action; the lease is released on the way out. `--dry-run` shows the
plan the next pass would act on (refreshed from the backends) and changes
nothing. `-o json` prints one JSON line per pass.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from batchspec.cli import _follow
from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json, emit_json_line, wants_json

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from batchspec.reconcile.controller import PassResult
    from batchspec.state.store import StateStore


def run(args: argparse.Namespace) -> int:
    """Run the loop until stopped."""
    from batchspec.plan import load_desired
    from batchspec.reconcile.controller import Controller, ControllerOptions

    paths = rt.paths_of(args)
    if args.dry_run:
        return _dry_run(args, paths)
    counter = [0]

    def on_pass(result: PassResult) -> None:
        counter[0] += 1
        if wants_json(args):
            emit_json_line(_pass_data(counter[0], result))
        else:
            rt.say(_pass_line(counter[0], result))

    from batchspec.state.lease import CONTROLLER_LEASE, this_process

    holder = this_process("batchspec reconcile")
    breaking = [args.break_lease]

    def pass_lock(store: StateStore) -> AbstractContextManager[Callable[[], None]]:
        # The writer lease, per pass: an apply gets its turn between passes.
        lock = rt.leased(
            store,
            args,
            "reconcile",
            holder=holder,
            wait=min(args.interval, 10.0),
            break_lease=breaking[0],
        )
        breaking[0] = False
        return lock

    with (
        rt.open_state(args, create=True, write="reconcile") as store,
        rt.stop_on_signals() as stop,
        rt.leased(store, args, "reconcile", name=CONTROLLER_LEASE, holder=holder) as guard,
    ):
        # Printed once the signal handlers are installed and the controller lease is
        # held: scripts and tests wait for this line, never for a fixed time.
        rt.warn(
            f"controller ready: pid {os.getpid()}, specs {', '.join(paths)}, state {store.path};"
            " SIGTERM stops it cleanly"
        )
        controller = Controller(
            store,
            rt.registry(),
            lambda: load_desired(paths, select=args.select, targets=args.targets),
            actor=rt.actor("reconcile"),
            options=ControllerOptions(
                interval=args.interval,
                max_interval=max(args.interval, args.max_interval),
                max_running=args.max_running,
                allow_retired=args.allow_retired,
            ),
            stop=stop,
            guard=guard,
            report=None if wants_json(args) else _follow.print_outcome,
            log=lambda message: rt.warn(f"{_now()} {message}"),
            pass_lock=lambda: pass_lock(store),
        )
        last = controller.run(once=args.once, on_pass=on_pass)
    if stop.is_set():
        rt.warn("reconcile stopped; leases released")
    if last is None:
        return 1
    return 1 if last.report.failed or last.plan.has_errors else 0


def _dry_run(args: argparse.Namespace, paths: list[str]) -> int:
    """The plan of the next pass, refreshed; no lease, nothing written."""
    from batchspec.cli.plan import make_plan
    from batchspec.plan import load_desired
    from batchspec.plan.render_text import render_text
    from batchspec.plan.saved import plan_to_dict

    desired = load_desired(paths, select=args.select, targets=args.targets)
    with rt.open_state(args, create=False) as store:
        plan = make_plan(store, desired, refresh=True, replace=[], allow_retired=args.allow_retired)
    if wants_json(args):
        emit_json({"dryRun": True, "plan": plan_to_dict(plan)})
    else:
        rt.say(render_text(plan))
        rt.say("Dry run: a reconcile pass would act as above; nothing was done.")
    return 1 if plan.has_errors else 0


def _pass_data(number: int, result: PassResult) -> dict[str, Any]:
    """One pass as a JSON line (`-o json`)."""
    return {
        "pass": number,
        "at": datetime.now(UTC).isoformat(),
        "actions": [
            {"name": o.action.name, "action": o.action.kind.value, "ok": o.ok, "message": o.message}
            for o in result.report.outcomes
            if not o.skipped
        ],
        "stateChanges": len(result.sync.changed),
        "deadlineCancels": len(result.deadline_cancels),
        "deferred": len(result.deferred),
        "driftFindings": len(result.sync.findings),
        "unfinished": result.followed,
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%H:%M:%SZ")


def _pass_line(number: int, result: PassResult) -> str:
    done = len(result.report.done)
    failed = len(result.report.failed)
    states = len(result.sync.changed)
    drift = len(result.sync.findings)
    parts = [
        f"{done} action(s)" + (f", {failed} failed" if failed else ""),
        f"{states} state change(s)",
        f"{len(result.deadline_cancels)} deadline cancel(s)",
        f"{len(result.deferred)} deferred",
        f"{drift} drift finding(s)",
        f"{result.followed} unfinished",
    ]
    return f"{_now()} pass {number}: " + ", ".join(parts)
