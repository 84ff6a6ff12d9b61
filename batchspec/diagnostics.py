"""Diagnostics are data: every problem batchspec finds is one of these.

A diagnostic carries a stable code (documented in `batchspec.validate.codes`),
a severity, where it is (file, 1-based line and column, and the path inside the
document), what is wrong and how to fix it. Stages collect them and keep going,
so a user sees every problem at once; renderers turn them into text or JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, NamedTuple

from batchspec.model.enums import Severity

PathPart = str | int
DocPath = tuple[PathPart, ...]


class Diagnostic(NamedTuple):
    """One problem (or warning) found in a spec.

    A NamedTuple rather than a frozen dataclass: the same immutable record,
    but Python 3.11 builds a frozen dataclass by compiling six generated
    methods, and `batchspec validate` of one spec used to spend a fifth of
    its start-up creating its twenty dataclasses (and importing `inspect`
    for them). Two diagnostics are equal when they say the same thing at
    the same place; the excerpt is only how a syntax error is shown.
    """

    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: DocPath = ()
    hint: str | None = None
    document: int | None = None
    excerpt: str | None = None

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
        """A copy with location fields filled in. Not `_replace`: it pops
        every field from the keywords, and a spec's warning is placed twice
        (file, then line), at more than twice the cost of this."""
        values = list(self)
        for name, value in changes.items():
            index = _FIELD_INDEX.get(name)
            if index is None:
                raise ValueError(f"Got unexpected field names: {[name]!r}")
            values[index] = value
        return _new_tuple(Diagnostic, values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return self[:-1] == other[:-1]  # all but the excerpt

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:-1])

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


_FIELD_INDEX: Final = {name: i for i, name in enumerate(Diagnostic._fields)}
_new_tuple = tuple.__new__


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
