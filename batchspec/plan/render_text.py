"""The plan for a terminal, in the spirit of `terraform plan`."""

from __future__ import annotations

from batchspec.diagnostics import Diagnostic
from batchspec.plan.actions import SYMBOLS, Action, ActionKind, Plan
from batchspec.plan.diff import action_diff


def format_diagnostic(d: Diagnostic) -> list[str]:
    """`file:line:col: error[BS123] message` plus its hint."""
    where = f" (at {d.pointer})" if d.path else ""
    lines = [f"{d.location}: {d.severity.value}[{d.code}] {d.message}{where}"]
    if d.hint:
        lines.append(f"    hint: {d.hint}")
    return lines


def render_text(plan: Plan, *, verbose: bool = False, diff: bool = False) -> str:
    """Changes first (with notes and optional diffs), then unchanged jobs, errors, summary."""
    head = f"batchspec plan: state {plan.state_path or '(none yet)'}, serial {plan.serial}"
    lines = [head + (", refreshed from backends" if plan.refreshed else ""), ""]
    lines.extend(_model_lines(plan))
    changes = plan.changes
    width = max((len(a.name) for a in plan.actions), default=10)
    for action in changes:
        lines.append(_line(action, width))
        lines.extend(f"        note: {note}" for note in action.notes)
        if diff and action.submits:
            lines.extend("        " + row for row in action_diff(action))
    for action in plan.refused:
        lines.append(f"    ! {'refused':<8} {action.name:<{width}}  {action.target or '-':<8}")
        lines.append(f"        {action.refused}")
    unchanged = [a for a in plan.actions if a.kind is ActionKind.NOOP]
    if verbose:
        lines.extend(_line(a, width) for a in unchanged)
    elif unchanged:
        lines.append(f"  ({len(unchanged)} unchanged job(s); --verbose lists them)")
    if not plan.actions:
        lines.append("  no jobs declared or recorded")
    lines.extend(upcoming_lines(plan))
    lines.extend(_errors(plan))
    lines.append("")
    verdict = "Plan" if not plan.has_errors else "Plan (with errors, cannot be applied)"
    lines.append(f"{verdict}: {plan.summary()}.")
    return "\n".join(lines)


def _model_lines(plan: Plan) -> list[str]:
    """Models first: apply uploads them before the jobs that run them."""
    if not plan.models:
        return []
    width = max(len(m.name) for m in plan.models)
    lines = ["Models:"]
    for m in plan.models:
        symbol = "^" if m.changes else " "
        lines.append(f"  {symbol:>3} {m.kind.value:<8} {m.name:<{width}}  {m.reason}")
    return [*lines, "", "Jobs:"]


def _line(action: Action, width: int) -> str:
    symbol = SYMBOLS[action.kind]
    target = action.target or "-"
    return (
        f"  {symbol:>3} {action.kind.value:<8} {action.name:<{width}}  {target:<8} {action.reason}"
    )


def upcoming_lines(plan: Plan) -> list[str]:
    """`Next runs:` and, per recurring spec, when it runs next (the plan's
    readers see the schedule as well as what runs now)."""
    if not plan.upcoming:
        return []
    lines = ["", "Next runs:"]
    for up in plan.upcoming:
        times = up.shown()
        when = ", ".join(times) if times else up.description
        lines.append(f"  {up.name} @ {when}" + (f"  ({up.description})" if times else ""))
    return lines


def _errors(plan: Plan) -> list[str]:
    lines: list[str] = []
    if plan.diagnostics:
        lines += ["", "Spec diagnostics:"]
        for d in plan.diagnostics:
            lines.extend("  " + row for row in format_diagnostic(d))
    if plan.problems:
        lines += ["", "Jobs that cannot be planned:"]
        for p in plan.problems:
            lines.append(f"  {p.name or p.file}: {p.message}")
            if p.hint:
                lines.append(f"    hint: {p.hint}")
    if plan.unobserved:
        lines += ["", "Backends that could not be listed (--refresh):"]
        lines.extend(f"  {name}: {message}" for name, message in sorted(plan.unobserved.items()))
    return lines
