"""Renderers for diagnostics: text for people, JSON for machines.

Text follows the compiler convention `file:line:col: severity[CODE] message`
so editors and CI annotations can jump to the spot, then the document path,
the hint and (for syntax errors) a numbered excerpt.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from batchspec.codes import CODES
from batchspec.diagnostics import Diagnostic


def render_text(diagnostics: Sequence[Diagnostic], *, files: int, specs: int) -> str:
    """Human-readable report with a one-line summary at the end."""
    lines: list[str] = []
    for d in diagnostics:
        name = CODES[d.code].name if d.code in CODES else ""
        where = f" (at {d.pointer})" if d.path else ""
        lines.append(f"{d.location}: {d.severity.value}[{d.code} {name}] {d.message}{where}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
        if d.excerpt:
            lines.extend("    " + row for row in d.excerpt.splitlines())
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    verdict = "ok" if errors == 0 else "failed"
    lines.append(
        f"{verdict}: {specs} valid spec(s) in {files} file(s), {errors} error(s),"
        f" {warnings} warning(s)"
    )
    return "\n".join(lines)


def render_json(diagnostics: Sequence[Diagnostic], *, files: int, specs: int) -> str:
    """A stable JSON document: summary plus the diagnostics list."""
    errors = sum(d.is_error for d in diagnostics)
    payload = {
        "ok": errors == 0,
        "files": files,
        "specs": specs,
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "diagnostics": [d.to_dict() for d in diagnostics],
    }
    return json.dumps(payload, indent=2)
