"""Renderers for diagnostics: text for people, JSON for machines.

Text follows the compiler convention `file:line:col: severity[CODE] message`
so editors and CI annotations can jump to the spot, then the document path,
the hint and (for syntax errors) a numbered excerpt.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain
from json.encoder import encode_basestring_ascii as _escape  # json's C function
from typing import Any

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
    return dumps_indented(payload)


class _NotFlatError(Exception):
    """A payload of another shape than `dumps_indented` writes itself."""


def dumps_indented(payload: dict[str, Any]) -> str:
    """`json.dumps(payload, indent=2)`, byte for byte, at C speed.

    An indent makes json use its pure-Python encoder: 280 M instructions
    (40 ms) for the 3,480 diagnostics of 10k specs. A report is a flat
    object whose one list holds objects of the same keys and plain values,
    so each value is encoded by json's own C string escape (or as json
    writes an int, a bool, null) into one template of the indented
    members: 136 M, most of it the escape itself. Any other shape or value
    type goes to json.dumps.
    """
    try:
        members = [
            f"  {_key(key)}: {_objects(value) if type(value) is list else _scalar(value)}"
            for key, value in payload.items()
        ]
    except _NotFlatError:
        return json.dumps(payload, indent=2)
    return "{\n" + ",\n".join(members) + "\n}" if members else "{}"


def _objects(items: list[Any]) -> str:
    """A list of objects of the same keys at depth 1 of the indented form."""
    if not items:
        return "[]"
    if set(map(type, items)) != {dict} or not items[0]:
        raise _NotFlatError
    keys = tuple(items[0])
    if set(map(tuple, items)) != {keys}:
        raise _NotFlatError
    # a `%s` per value; a key's own `%` doubled
    fields = ",\n".join(f"      {_key(key).replace('%', '%%')}: %s" for key in keys)
    template = f"    {{\n{fields}\n    }}"
    values = [
        _escape(v) if v.__class__ is str else _scalar(v)
        for v in chain.from_iterable(map(dict.values, items))
    ]
    return "[\n" + ",\n".join([template] * len(items)) % tuple(values) + "\n  ]"


def _key(key: object) -> str:
    if type(key) is not str:
        raise _NotFlatError  # json.dumps turns it into a string its own way
    return _escape(key)


def _scalar(value: object) -> str:
    """A value as json.dumps writes it, when it is a str, int, bool or None."""
    if type(value) is str:
        return _escape(value)
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int:
        return int.__repr__(value)
    raise _NotFlatError
