"""Find where a document path sits in the YAML text (line and column, 1-based).

Only files with a problem get here, once per file. A plain block-style
document is read by lines (`batchspec.load.blockpos`); otherwise the node graph comes
from libyaml's composer (C, linear in the text: ruamel's round-trip loader
took a minute for a file of 2,000 documents, its comment handling being
quadratic); when libyaml rejects a text that the reference parser accepts,
ruamel's pure-Python composer gives the same nodes. Texts reach this module
only after the depth check in `batchspec.load.guard`, so neither recurses
deeply.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from batchspec.diagnostics import DocPath
from batchspec.load.blockpos import block_position, first_key_position, plain_block

Position = tuple[int, int]


class PositionIndex:
    """Lazily composed positions for all documents of one file."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._docs: list[Any] | None = None
        self._lines: list[str] | None = None  # when the text is plain block style
        self._plain: bool | None = None  # whether it is, once looked at

    def _documents(self) -> list[Any]:
        if self._docs is None:
            self._docs = _compose(self._text)
        return self._docs

    def locate(self, document: int, path: DocPath, *, key: bool = False) -> Position | None:
        """Position of the value at `path` (of its key when `key`), or of the
        deepest ancestor that exists when the path is missing (for a missing key,
        the mapping that should hold it)."""
        if document == 0 and self._docs is None:
            found = first_key_position(self._text, path, key=key)  # looks at what it reads
            if found is not None:
                return found
            if self._plain is None:
                self._plain = plain_block(self._text)
            if self._plain:
                if self._lines is None:
                    self._lines = self._text.split("\n")
                found = block_position(self._lines, path, key=key, text=self._text)
                if found is not None:
                    return found
        return self.composed(document, path, key=key)

    def composed(self, document: int, path: DocPath, *, key: bool = False) -> Position | None:
        """`locate` through the composed node graph (the reference)."""
        docs = self._documents()
        if document >= len(docs) or docs[document] is None:
            return None
        node = docs[document]
        pos = _mark(node)
        for depth, part in enumerate(path):
            found = _child(node, part)
            if found is None:
                return pos
            key_node, node = found
            last = depth == len(path) - 1
            pos = _mark(key_node if key and last and key_node is not None else node)
        return pos


def _compose(text: str) -> list[Any]:
    try:
        return _compose_libyaml(text)
    except Exception:
        pass
    try:
        from ruamel.yaml import YAML

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(YAML(typ="safe", pure=True).compose_all(text))
    except Exception:
        return []


@functools.cache
def _position_loader() -> type[Any]:
    """libyaml's composer without tag resolution: only marks and the raw text
    of keys are read here, and the resolver (regexes run in Python for every
    scalar) was a third of the time spent locating."""
    import yaml

    class PositionLoader(yaml.CSafeLoader):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            return "tag:yaml.org,2002:str"

    return PositionLoader


def _compose_libyaml(text: str) -> list[Any]:
    loader = _position_loader()(text)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
        return nodes
    finally:
        loader.dispose()


def _mark(node: Any) -> Position | None:
    mark = getattr(node, "start_mark", None)
    if mark is None:
        return None
    return mark.line + 1, mark.column + 1


def _child(node: Any, part: str | int) -> tuple[Any, Any] | None:
    """(key node or None, value node) of `part` under `node`."""
    kind = getattr(node, "id", None)
    if kind == "sequence" and isinstance(part, int):
        items = node.value
        return (None, items[part]) if 0 <= part < len(items) else None
    if kind == "mapping":
        wanted = str(part)
        for key_node, value_node in node.value:
            if getattr(key_node, "id", None) == "scalar" and key_node.value == wanted:
                return key_node, value_node
    return None
