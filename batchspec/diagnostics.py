"""Diagnostics are data: every problem batchspec finds is one of these.

A diagnostic carries a stable code (documented in `batchspec.validate.codes`),
a severity, where it is (file, 1-based line and column, and the path inside the
document), what is wrong and how to fix it. Stages collect them and keep going,
so a user sees every problem at once; renderers turn them into text or JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from batchspec.model.enums import Severity

PathPart = str | int
DocPath = tuple[PathPart, ...]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem (or warning) found in a spec."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: DocPath = ()
    hint: str | None = None
    document: int | None = None
    excerpt: str | None = field(default=None, compare=False)

    @property
    def is_error(self) -> bool:
        """True when this diagnostic makes the spec unusable."""
        return self.severity is Severity.ERROR

    @property
    def pointer(self) -> str:
        """The document path as a dotted string, `spec.input.paths[0]`."""
        return format_path(self.path)

    @property
    def location(self) -> str:
        """`file:line:col`, as much of it as is known."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def at(self, **changes: Any) -> Diagnostic:
        """A copy with location fields filled in (as `dataclasses.replace`
        would make it, which costs several times this in the validate loop)."""
        values = {name: getattr(self, name) for name in _FIELDS}
        values.update(changes)
        return Diagnostic(**values)

    def __reduce__(self) -> tuple[type[Diagnostic], tuple[Any, ...]]:
        """Pickled as its fields in order (diagnostics come back from worker
        processes), cheaper to load than a frozen dataclass's state."""
        return Diagnostic, tuple(getattr(self, name) for name in _FIELDS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping with a stable key order."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "document": self.document,
            "path": self.pointer,
            "message": self.message,
            "hint": self.hint,
        }


_FIELDS = tuple(f.name for f in fields(Diagnostic))


def format_path(path: Sequence[PathPart]) -> str:
    """Render a document path the way a reader of YAML thinks of it."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when any diagnostic is an error."""
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, int, int, str]:
    """Order by file, then position, then code: what a reader scans for."""
    return (d.file or "", d.document or 0, d.line or 0, d.column or 0, d.code)
