"""`batchspec plan [PATHS]`: what apply would do, and why.

Exit codes follow `terraform plan -detailed-exitcode`: 0 no changes, 2
changes, 1 errors (a spec that does not load or compile, a backend that
cannot be listed with --refresh).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from batchspec.cli import _runtime as rt


def run(args: argparse.Namespace) -> int:
    """Plan and render."""
    from batchspec.plan import load_desired
    from batchspec.plan.render_markdown import render_markdown
    from batchspec.plan.render_text import render_text
    from batchspec.plan.saved import render_json, save_plan

    desired = load_desired(rt.paths_of(args), select=args.select, targets=args.targets)
    rt.check_replace(args.replace, desired)
    # A saved plan must name a real state file (its lineage), so --out creates one.
    with rt.open_state(args, create=bool(args.out), readonly=not args.out) as store:
        plan = make_plan(
            store,
            desired,
            refresh=args.refresh,
            replace=args.replace,
            allow_retired=args.allow_retired,
        )
    if args.output == "json":
        rt.say(render_json(plan))
    elif args.output == "markdown":
        comments = render_markdown(plan, limit=args.comment_limit)
        rt.say("\n".join(comments))
    else:
        rt.say(render_text(plan, verbose=args.verbose, diff=args.diff))
    if args.comment_dir:
        folder = Path(args.comment_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("comment-*.md"):
            old.unlink()
        for i, text in enumerate(render_markdown(plan, limit=args.comment_limit), start=1):
            (folder / f"comment-{i}.md").write_text(text, encoding="utf-8")
    if args.out:
        saved = save_plan(plan, args.out)
        rt.warn(f"plan saved to {saved}; apply it with: batchspec apply {saved}")
    if plan.has_errors:
        return 1
    return 2 if plan.has_changes else 0


def make_plan(
    store: Any, desired: Any, *, refresh: bool, replace: list[str], allow_retired: bool = False
) -> Any:
    """The plan of `desired` against recorded state (and, with `refresh`, what
    the backends report), writing nothing: `plan`, `apply --dry-run` and
    `reconcile --dry-run` all show this."""
    from batchspec.plan import PlanOptions
    from batchspec.plan.builder import plan_against

    observation = None
    seen: dict[str, Any] = {}
    unlisted = None
    if refresh:
        from batchspec.reconcile.models import refresh_models
        from batchspec.reconcile.observe import observe, scope_of

        provider = rt.registry()
        observation = observe(scope_of(store, desired), provider)
        if desired.models:  # their versions too: deleted or relabelled outside batchspec
            seen, unlisted = refresh_models(store, provider, desired.models)
    # plan_against: the Model documents' uploads too, before the jobs
    plan = plan_against(
        desired,
        store,
        observation,
        PlanOptions(replace=frozenset(replace), allow_retired=allow_retired),
        models_seen=seen,
    )
    if unlisted is not None:
        plan.unobserved["vertex (models)"] = unlisted
    return plan
