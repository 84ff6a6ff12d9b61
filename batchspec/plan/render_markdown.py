"""The plan as pull request comments.

Layout: the summary counts first (what a reviewer reads), errors next, then
one collapsible `<details>` section per changed job with its body diff, then
the unchanged jobs, collapsed. GitHub refuses comments over 65,536
characters, so the sections are packed into as many comments as needed, each
under the limit, each saying "part i of n"; a single diff too large for one
comment is cut with a note. Every comment starts with a marker so a workflow
can find and replace the previous plan's comments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from batchspec.plan.actions import KIND_ORDER, RECURRING, SYMBOLS, Action, ActionKind, Plan
from batchspec.plan.diff import action_diff
from batchspec.plan.render_text import format_diagnostic

GITHUB_COMMENT_LIMIT = 65_536
MARKER = "<!-- batchspec-plan -->"


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks inside `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _code(text: str) -> str:
    return f"<code>{text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</code>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(plan: Plan, title: str) -> list[str]:
    counts = plan.counts()
    verdict = "no changes" if not plan.has_changes else "changes"
    if plan.has_errors:
        verdict = "errors: cannot be applied"
    lines = [
        f"### {title}: {verdict}",
        "",
        f"**{plan.summary()}**",
        "",
        "| action | jobs |",
        "| --- | ---: |",
    ]
    recurring = plan.upcoming or any(counts[k] for k in RECURRING)
    shown = [k for k in KIND_ORDER if recurring or k not in RECURRING]
    lines += [f"| {kind.value} | {counts[kind]} |" for kind in shown]
    if plan.models:  # uploaded first, before the jobs that run them
        lines += ["", "| model | action | why |", "| --- | --- | --- |"]
        lines += [
            f"| {_code(m.name)} | {m.kind.value} | {_escape(m.reason)} |" for m in plan.models
        ]
    for action in plan.refused:
        lines += [
            "",
            f"> **{_escape(action.name)}** ({action.target}): {_escape(action.refused or '')}",
        ]
    source = "recorded state refreshed from the backends" if plan.refreshed else "recorded state"
    lines += [
        "",
        f"<sub>against {source}, serial {plan.serial}, state hash `{plan.state_hash[:12]}`</sub>",
    ]
    return lines


def _errors(plan: Plan) -> str | None:
    rows: list[str] = []
    for d in plan.diagnostics:
        rows.extend(format_diagnostic(d))
    for p in plan.problems:
        rows.append(f"{p.name or p.file}: {p.message}")
        if p.hint:
            rows.append(f"    hint: {p.hint}")
    for name, message in sorted(plan.unobserved.items()):
        rows.append(f"backend {name} could not be listed: {message}")
    if not rows:
        return None
    text = "\n".join(rows)
    fence = _fence(text)
    return f"#### Errors\n\n{fence}\n{text}\n{fence}"


def _upcoming(plan: Plan) -> str | None:
    """A table of when each recurring spec runs next."""
    if not plan.upcoming:
        return None
    rows = ["#### Next runs", "", "| job | schedule | next runs |", "| --- | --- | --- |"]
    for up in plan.upcoming:
        times = "<br>".join(up.shown()) or "-"
        rows.append(f"| {_code(up.name)} | {_escape(up.description)} | {times} |")
    return "\n".join(rows)


def _section(action: Action, budget: int) -> str:
    summary = (
        f"<b>{SYMBOLS[action.kind]} {action.kind.value}</b> {_code(action.name)}"
        f" ({_escape(action.target or '-')}): {_escape(action.reason)}"
    )
    notes = "".join(f"\n> {_escape(note)}" for note in action.notes)
    body = ""
    if action.submits and action.job is not None:
        lines = action_diff(action)
        body = _diff_block(lines, budget - len(summary) - len(notes) - 200)
    return f"<details><summary>{summary}</summary>\n{notes}\n\n{body}\n</details>"


def _diff_block(lines: Sequence[str], budget: int) -> str:
    text = "\n".join(lines)
    if len(text) > budget:
        kept: list[str] = []
        used = 0
        for line in lines:
            if used + len(line) + 1 > budget - 120:
                break
            kept.append(line)
            used += len(line) + 1
        text = "\n".join(kept)
        text += (
            f"\n... diff cut: {len(lines) - len(kept)} more line(s);"
            " run `batchspec plan --diff` for all of it"
        )
    fence = _fence(text)
    return f"{fence}diff\n{text}\n{fence}"


def _unchanged(plan: Plan, budget: int) -> list[str]:
    """Unchanged jobs, collapsed, in lists small enough for one comment each."""
    noops = [a for a in plan.actions if a.kind is ActionKind.NOOP]
    chunks: list[list[str]] = [[]]
    used = 0
    for action in noops:
        row = f"- {_code(action.name)}: {_escape(action.reason)}"
        if chunks[-1] and used + len(row) + 1 > budget:
            chunks.append([])
            used = 0
        chunks[-1].append(row)
        used += len(row) + 1
    sections = []
    first = 1
    for rows in chunks:
        if not rows:
            continue
        last = first + len(rows) - 1
        label = (
            f"{len(noops)} unchanged job(s)"
            if len(rows) == len(noops)
            else f"unchanged jobs {first}-{last} of {len(noops)}"
        )
        sections.append(
            f"<details><summary>{label}</summary>\n\n" + "\n".join(rows) + "\n</details>"
        )
        first = last + 1
    return sections


def render_markdown(
    plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT, title: str = "batchspec plan"
) -> list[str]:
    """The plan as one or more comments, each at most `limit` characters."""
    if limit < 2_000:
        raise ValueError("comment limit too small to hold a plan header")
    header = "\n".join(_header(plan, title))
    part_room = len(f"{MARKER}\n_part 9999 of 9999_\n\n")
    budget = limit - part_room - 64
    sections: list[str] = []
    errors = _errors(plan)
    if errors:
        sections.append(errors if len(errors) <= budget // 2 else errors[: budget // 2] + "\n...")
    sections += [_section(a, budget // 2) for a in plan.changes]
    upcoming = _upcoming(plan)
    if upcoming:
        sections.append(upcoming if len(upcoming) <= budget // 2 else upcoming[: budget // 2])
    sections += _unchanged(plan, budget // 2)
    comments: list[list[str]] = [[header]]
    used = len(header)
    for section in sections:
        if used + len(section) + 2 > budget:
            comments.append([])
            used = 0
        comments[-1].append(section)
        used += len(section) + 2
    total = len(comments)
    out = []
    for i, parts in enumerate(comments, start=1):
        label = f"_part {i} of {total}_\n\n" if total > 1 else ""
        text = f"{MARKER}\n{label}" + "\n\n".join(parts) + "\n"
        out.append(text)
    return out
