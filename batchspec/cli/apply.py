"""`batchspec apply [PATHS | PLAN.json]`: run what the plan says, exactly once.

With spec paths it plans (refreshing from the backends) and applies; with a
saved plan it applies exactly that plan or refuses when state moved. It holds
the controller lease while it acts. `--wait` then follows every job to its
end (retrying per policy, like the controller), with progress bars on a
terminal, and prints where the results are.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from batchspec.cli import _follow
from batchspec.cli import _runtime as rt


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "apply",
        help="submit, replace, resubmit, cancel and forget jobs as planned",
        description="Apply the specs (planning first) or a plan saved with `batchspec plan"
        " --out`. Submission is exactly-once: an interrupted apply is safe to run again.",
    )
    p.add_argument(
        "paths", nargs="*", help="spec files or folders (default: specs/), or one PLAN.json"
    )
    p.add_argument("--wait", action="store_true", help="follow the jobs to their end")
    p.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="NAME",
        help="run NAME again as a new job even if nothing changed (repeatable)",
    )
    p.add_argument(
        "--max-running",
        type=int,
        default=0,
        metavar="N",
        help="with --wait: at most N jobs running at once (default: no limit)",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="with --wait: polling interval (default 2; it backs off while nothing changes)",
    )
    p.add_argument("--no-progress", action="store_true", help="log lines instead of bars")
    rt.add_select_option(p)
    rt.add_retired_option(p)
    rt.add_state_option(p)
    rt.add_lease_options(p)


def run(args: argparse.Namespace) -> int:
    """Apply, optionally wait, and report."""
    from batchspec.plan.saved import is_plan_file

    paths = rt.paths_of(args)
    saved = any(is_plan_file(p) for p in paths)
    if saved and len(paths) > 1:
        from batchspec.errors import PlanError

        raise PlanError(
            "apply takes either spec paths or one saved plan, not both",
            hint="batchspec apply plan.json",
        )
    with (
        rt.open_state(args, create=True, write="apply") as store,
        rt.stop_on_signals() as stop,
        rt.leased(store, args, "apply") as guard,
    ):
        from batchspec.reconcile.apply import ApplyContext

        ctx = ApplyContext(
            store=store,
            provider=rt.registry(),
            actor=rt.actor("apply"),
            guard=guard,
            stop=stop,
            report=_follow.print_outcome,
            log=rt.warn,
            allow_retired=args.allow_retired,
        )
        if saved:
            return _apply_saved(ctx, args, paths[0])
        return _apply_specs(ctx, args, paths)


def _apply_specs(ctx: Any, args: argparse.Namespace, paths: list[str]) -> int:
    from batchspec.plan import load_desired
    from batchspec.plan.render_text import render_text
    from batchspec.reconcile.apply import apply_desired

    def desired() -> Any:
        return load_desired(paths, select=args.select, targets=args.targets)

    first = desired()
    rt.check_replace(args.replace, first)
    result = apply_desired(ctx, first, replace=args.replace)
    if not first.ok:
        rt.say(render_text(result.plan))
        rt.warn("error: nothing applied: fix the specs above (or --select the others)")
        return 1
    _report(result)
    if not args.wait:
        return 1 if result.report.failed else 0
    names = set(first.jobs) | {a.name for a in result.plan.changes}
    return _wait(ctx, args, desired, names, failed=bool(result.report.failed))


def _apply_saved(ctx: Any, args: argparse.Namespace, path: str) -> int:
    from batchspec.plan import desired_from
    from batchspec.plan.saved import load_plan
    from batchspec.reconcile.apply import apply_saved

    plan = load_plan(path, ctx.store)
    rt.say(f"Applying saved plan {path}: {plan.summary()}")
    result = apply_saved(ctx, plan)
    _report(result)
    if not args.wait:
        return 1 if result.report.failed else 0
    jobs = [a.job for a in plan.changes if a.job is not None]
    names = {a.name for a in plan.changes}
    return _wait(ctx, args, lambda: desired_from(jobs), names, failed=bool(result.report.failed))


_DONE = {
    "create": "created",
    "replace": "replaced",
    "resubmit": "resubmitted",
    "cancel": "cancelled",
    "forget": "forgotten",
    "noop": "unchanged",
}


def _report(result: Any) -> None:
    for action in result.plan.refused:
        rt.warn(f"warning: {action.name}: {action.refused}")
    done = result.report.done
    failed = result.report.failed
    if not result.plan.has_changes:
        unchanged = len(result.plan.actions)
        rt.say(f"No changes. {unchanged} job(s) up to date.")
        return
    counts: dict[str, int] = {}
    for outcome in done:
        verb = _DONE[outcome.action.kind.value]
        counts[verb] = counts.get(verb, 0) + 1
    parts = [f"{n} {verb}" for verb, n in sorted(counts.items())] or ["nothing done"]
    tail = f"; {len(failed)} failed" if failed else ""
    rt.say(f"Apply complete: {', '.join(parts)}{tail}.")


def _wait(
    ctx: Any, args: argparse.Namespace, desired: Any, names: set[str], *, failed: bool
) -> int:
    from batchspec.reconcile.controller import Controller, ControllerOptions
    from batchspec.state.records import Disposition

    controller = Controller(
        ctx.store,
        ctx.provider,
        desired,
        actor=ctx.actor,
        options=ControllerOptions(
            interval=args.interval,
            max_interval=max(10.0, args.interval * 5),
            max_running=args.max_running,
            allow_retired=args.allow_retired,
        ),
        stop=ctx.stop,
        guard=ctx.guard,
        report=_follow.print_outcome,
        log=rt.warn,
        watch=lambda _desired: names,
    )
    bars = sys.stderr.isatty() and not args.no_progress
    with _follow.Follower(ctx.store, lambda: names, bars=bars) as follower:
        last = controller.run(until_settled=True, on_pass=follower.on_pass)
    records = _follow.watched_records(ctx.store, names)
    if records:
        rt.say("")
        rt.say(_follow.summary(records))
    if ctx.stop.is_set() and not (last and last.settled):
        rt.warn(
            "stopped before every job ended; `batchspec apply --wait` or `batchspec"
            " reconcile` picks them up again"
        )
        return 1
    declared = [r for r in records if r.disposition is Disposition.CURRENT]
    good = [r.name for r in declared if r.state is not None and r.state.successful]
    if good:
        more = " (and likewise for the others)" if len(good) > 1 else ""
        rt.say(f"Results: batchspec results {good[0]}{more}")
    blocked = last.blocked if last is not None else {}
    for backend, message in sorted(blocked.items()):
        rt.warn(f"error: cannot follow the jobs on backend {backend}: {message}")
    return 0 if len(good) == len(declared) and not failed and not blocked else 1
