"""`batchspec apply [PATHS | PLAN.json]`: run what the plan says, exactly once.

With spec paths it plans (refreshing from the backends) and applies; with a
saved plan it applies exactly that plan or refuses when state moved. It holds
the controller lease while it acts. `--wait` then follows every job to its
end (retrying per policy, like the controller), with progress bars on a
terminal, and prints where the results are.

On a terminal it shows the plan and asks before changing anything (like
terraform and pulumi); `--yes`, or no terminal on stdin (CI, scripts), skips
the question, and so does a saved plan (it was reviewed when it was saved).
`--dry-run` shows the plan, refreshed from the backends, and changes nothing:
no job, no state. `-o json` prints one document (the plan, what was done, and
with --wait every job's record); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from batchspec.cli import _follow, _prompt
from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json, wants_json


def run(args: argparse.Namespace) -> int:
    """Apply, optionally wait, and report."""
    from batchspec.errors import BatchspecError, PlanError
    from batchspec.plan.saved import is_plan_file

    paths = rt.paths_of(args)
    saved = any(is_plan_file(p) for p in paths)
    if saved and len(paths) > 1:
        raise PlanError(
            "apply takes either spec paths or one saved plan, not both",
            hint="batchspec apply plan.json",
        )
    if args.dry_run:
        return _dry_run(args, paths, saved)
    if wants_json(args) and not saved and _prompt.will_ask(yes=args.yes):
        raise BatchspecError(
            "-o json on a terminal needs --yes: the plan cannot be approved interactively",
            hint="batchspec apply --yes -o json (or review it first with batchspec plan)",
        )
    report = _follow.print_outcome if not wants_json(args) else None
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
            report=report,
            log=rt.warn,
            allow_retired=args.allow_retired,
        )
        if saved:
            return _apply_saved(ctx, args, paths[0])
        return _apply_specs(ctx, args, paths)


def _apply_specs(ctx: Any, args: argparse.Namespace, paths: list[str]) -> int:
    from batchspec.plan import load_desired
    from batchspec.plan.render_text import render_text
    from batchspec.reconcile.apply import execute_plan, plan_for_apply

    def desired() -> Any:
        return load_desired(paths, select=args.select, targets=args.targets)

    first = desired()
    rt.check_replace(args.replace, first)
    run_now = [n for n, j in first.jobs.items() if j.effective.recurring] if args.now else []
    plan, observation = plan_for_apply(ctx, first, replace=args.replace, run_now=run_now)
    if not first.ok:
        if wants_json(args):
            emit_json(_document(plan, None, [], ok=False))
        else:
            rt.say(render_text(plan))
        rt.warn("error: nothing applied: fix the specs above (or --select the others)")
        return 1
    if not _approved(plan, args):
        rt.warn("Apply cancelled: nothing was changed.")
        return 1
    result = execute_plan(ctx, plan, observation)
    return _finish(ctx, args, result, desired, set(first.jobs))


def _apply_saved(ctx: Any, args: argparse.Namespace, path: str) -> int:
    from batchspec.plan import desired_from
    from batchspec.plan.saved import load_plan
    from batchspec.reconcile.apply import apply_saved

    plan = load_plan(path, ctx.store)
    # Saving the plan was the review: like terraform, a saved plan is not asked about.
    _say(args, f"Applying saved plan {path}: {plan.summary()}")
    result = apply_saved(ctx, plan)
    jobs = [a.job for a in plan.changes if a.job is not None]
    return _finish(ctx, args, result, lambda: desired_from(jobs), set())


def _approved(plan: Any, args: argparse.Namespace) -> bool:
    """Show the plan and ask, when a person is there to answer."""
    if not plan.has_changes or not _prompt.will_ask(yes=args.yes):
        return True
    from batchspec.plan.render_text import render_text

    rt.say(render_text(plan))
    return _prompt.confirm("Do you want to perform these actions?", yes=args.yes)


def _finish(
    ctx: Any, args: argparse.Namespace, result: Any, desired: Any, declared: set[str]
) -> int:
    """Report what was done, then (with --wait) follow the jobs."""
    failed = result.report.any_failed
    if not wants_json(args):
        _report(result)
    if not args.wait:
        if wants_json(args):
            emit_json(_document(result.plan, result.report, [], ok=not failed))
        return 1 if failed else 0
    names = declared | {a.name for a in result.plan.changes}
    code, records = _wait(ctx, args, desired, names, failed=failed)
    if wants_json(args):
        emit_json(_document(result.plan, result.report, records, ok=code == 0))
    return code


def _dry_run(args: argparse.Namespace, paths: list[str], saved: bool) -> int:
    """The plan, refreshed, with nothing changed (no lease, no state written)."""
    from batchspec.cli.plan import make_plan
    from batchspec.plan import load_desired
    from batchspec.plan.render_text import render_text
    from batchspec.plan.saved import load_plan

    with rt.open_state(args, create=False) as store:
        if saved:
            plan = load_plan(paths[0], store)
        else:
            desired = load_desired(paths, select=args.select, targets=args.targets)
            rt.check_replace(args.replace, desired)
            plan = make_plan(
                store,
                desired,
                refresh=True,
                replace=args.replace,
                allow_retired=args.allow_retired,
            )
    if wants_json(args):
        emit_json(_document(plan, None, [], ok=not plan.has_errors, dry_run=True))
    else:
        rt.say(render_text(plan))
        rt.say("Dry run: nothing was applied.")
    return 1 if plan.has_errors else 0


def _say(args: argparse.Namespace, line: str) -> None:
    """Progress: stdout for text, stderr when stdout carries JSON."""
    (rt.warn if wants_json(args) else rt.say)(line)


def _document(
    plan: Any, report: Any, records: list[Any], *, ok: bool, dry_run: bool = False
) -> dict[str, Any]:
    """`apply -o json`: {ok, dryRun, plan, applied, summary, jobs, models}."""
    from batchspec.plan.saved import plan_to_dict

    outcomes = list(report.outcomes) if report is not None else []
    applied = [
        {
            "name": o.action.name,
            "action": o.action.kind.value,
            "ok": o.ok,
            "message": o.message,
            "remoteName": o.record.remote_name if o.record is not None else None,
        }
        for o in outcomes
        if not o.skipped
    ]
    summary: dict[str, int] = {}
    for item in applied:
        key = _DONE[item["action"]] if item["ok"] else "failed"
        summary[key] = summary.get(key, 0) + 1
    return {
        "ok": ok,
        "dryRun": dry_run,
        "plan": plan_to_dict(plan),
        "applied": applied,
        "summary": summary,
        "jobs": [r.to_dict() for r in records],
        "models": [  # uploads, before the jobs
            {"name": m.name, "ok": m.ok, "message": m.message}
            for m in (report.models if report is not None else [])
        ],
    }


_DONE = {
    "create": "created",
    "replace": "replaced",
    "resubmit": "resubmitted",
    "cancel": "cancelled",
    "forget": "forgotten",
    "run": "started",
    "schedule": "scheduled",
    "skip": "skipped",
    "noop": "unchanged",
}


def _report(result: Any) -> None:
    for action in result.plan.refused:
        rt.warn(f"warning: {action.name}: {action.refused}")
    done = result.report.done
    failed = result.report.failed
    for model in result.report.models:
        say = rt.say if model.ok else rt.warn
        say(f"model {model.name}: {model.message}")
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
) -> tuple[int, list[Any]]:
    """Follow the jobs to their end: the exit code and their final records."""
    from batchspec.reconcile.controller import Controller, ControllerOptions
    from batchspec.state.records import Disposition

    options = ControllerOptions(
        interval=args.interval,
        max_interval=max(10.0, args.interval * 5),
        max_running=args.max_running,
        allow_retired=args.allow_retired,
    )
    controller = Controller(
        ctx.store,
        ctx.provider,
        desired,
        actor=ctx.actor,
        options=options,
        stop=ctx.stop,
        guard=ctx.guard,
        report=ctx.report,
        log=rt.warn,
        watch=lambda _desired: names,
    )
    bars = sys.stderr.isatty() and not args.no_progress and not wants_json(args)
    lines = rt.warn if wants_json(args) else rt.say
    with _follow.Follower(ctx.store, lambda: names, bars=bars, say=lines) as follower:
        last = controller.run(until_settled=True, on_pass=follower.on_pass)
    records = _follow.watched_records(ctx.store, names)
    if records and not wants_json(args):
        rt.say("")
        rt.say(_follow.summary(records))
    if ctx.stop.is_set() and not (last and last.settled):
        rt.warn(
            "stopped before every job ended; `batchspec apply --wait` or `batchspec"
            " reconcile` picks them up again"
        )
        return 1, records
    declared = [r for r in records if r.disposition is Disposition.CURRENT]
    good = [r.name for r in declared if r.state is not None and r.state.successful]
    if good and not wants_json(args):
        more = " (and likewise for the others)" if len(good) > 1 else ""
        rt.say(f"Results: batchspec results {good[0]}{more}")
    blocked = last.blocked if last is not None else {}
    for backend, message in sorted(blocked.items()):
        rt.warn(f"error: cannot follow the jobs on backend {backend}: {message}")
    ok = len(good) == len(declared) and not failed and not blocked
    return (0 if ok else 1), records
