"""Find where a document path sits in the YAML text (line and column, 1-based).

Only documents with a problem get here: the round-trip parser that records
positions is several times slower than the fast loader, so it runs lazily,
once per file, and only when a diagnostic needs a location.
"""

from __future__ import annotations

import warnings
from typing import Any

from batchspec.diagnostics import DocPath

Position = tuple[int, int]


class PositionIndex:
    """Lazily parsed positions for all documents of one file."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._docs: list[Any] | None = None

    def _documents(self) -> list[Any]:
        if self._docs is None:
            from ruamel.yaml import YAML

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._docs = list(YAML(typ="rt").load_all(self._text))
            except Exception:
                self._docs = []
        return self._docs

    def locate(self, document: int, path: DocPath, *, key: bool = False) -> Position | None:
        """Position of the value at `path` (of its key when `key`), or of the
        deepest ancestor that exists when the path is missing (for a missing key,
        the mapping that should hold it)."""
        docs = self._documents()
        if document >= len(docs):
            return None
        node = docs[document]
        pos = _own_position(node)
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            child_pos = _child_position(node, part, key=key and last)
            if child_pos is None:
                return pos
            pos = child_pos
            node = node[part]
        return pos


def _own_position(node: Any) -> Position | None:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return None
    return lc.line + 1, lc.col + 1


def _child_position(node: Any, part: str | int, *, key: bool) -> Position | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            line, col = lc.item(part)
        elif isinstance(node, dict) and part in node:
            line, col = lc.key(part) if key else lc.value(part)
        else:
            return None
    except (KeyError, IndexError, TypeError):
        return None
    return line + 1, col + 1
