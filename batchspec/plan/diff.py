"""Body diffs for plans: the recorded revision against the declared one.

Bodies are shown as pretty JSON with sorted keys, the same canonical order
the fingerprint is taken over, so a diff shows exactly what changed the
fingerprint and nothing else. Both sides are redacted
(`batchspec.state.redact`): a plan is pasted into pull requests and CI logs.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from batchspec.state.redact import marked_keys, redact

if TYPE_CHECKING:
    from batchspec.plan.actions import Action


def body_lines(body: Mapping[str, Any] | None) -> list[str]:
    """The body as pretty JSON lines (empty for no body)."""
    if body is None:
        return []
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return text.splitlines()


def body_diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *, context: int = 3
) -> list[str]:
    """Unified diff lines (without file headers) from `before` to `after`."""
    old, new = body_lines(before), body_lines(after)
    if before is None:
        return [f"+{line}" for line in new]
    if after is None:
        return [f"-{line}" for line in old]
    lines = list(difflib.unified_diff(old, new, lineterm="", n=context))
    return [line for line in lines if not line.startswith(("---", "+++"))]


def action_diff(action: Action, *, context: int = 3) -> list[str]:
    """The diff of what `action` submits against what ran before, secrets redacted."""
    if action.job is None:
        return []
    marked = marked_keys(action.job.spec)
    before = redact(action.before_body, marked) if action.before_body is not None else None
    return body_diff(before, redact(action.job.body, marked), context=context)
