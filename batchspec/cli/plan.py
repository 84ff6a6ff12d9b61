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
from batchspec.cli._output import add_output_option

EXAMPLES = [
    ("batchspec plan", "what applying specs/ would do (exit 0 no changes, 2 changes, 1 errors)"),
    ("batchspec plan --refresh -o json", "ask the backends first; print the plan as JSON"),
    (
        "batchspec plan --out plan.json && batchspec apply plan.json",
        "save the plan, then apply exactly that plan",
    ),
]


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "plan",
        help="show what apply would do (exit 0 no changes, 2 changes, 1 errors)",
        description="Compare the specs with recorded state (and, with --refresh, with what"
        " the backends report) and show one action per job with its reason.",
    )
    p.add_argument("paths", nargs="*", help="spec files or folders (default: specs/)")
    add_output_option(
        p,
        ["text", "markdown", "json"],
        help="text for terminals, markdown for a pull request comment, json for machines",
    )
    p.add_argument("--refresh", action="store_true", help="ask the backends first")
    p.add_argument(
        "--out", metavar="PLAN.json", help="save the plan for `batchspec apply PLAN.json`"
    )
    p.add_argument(
        "--comment-dir",
        metavar="DIR",
        help="write the markdown plan as comment-1.md, comment-2.md... (each under the limit)",
    )
    p.add_argument(
        "--comment-limit",
        type=int,
        default=65_536,
        metavar="CHARS",
        help="largest comment (GitHub: 65536 characters)",
    )
    p.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="NAME",
        help="plan a new job for NAME even if nothing changed (repeatable)",
    )
    p.add_argument("--diff", action="store_true", help="text output: show body diffs")
    p.add_argument("--verbose", "-v", action="store_true", help="text output: list unchanged jobs")
    rt.add_select_option(p)
    rt.add_retired_option(p)
    rt.add_state_option(p)


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
