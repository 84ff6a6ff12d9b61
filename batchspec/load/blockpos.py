"""Positions in plain block-style YAML by reading lines, without composing.

Most located diagnostics of a clean tree are warnings at a top-level path
(`spec.target` of a retired service), and composing the file's node graph
to find one line cost more than checking the whole spec. A typical spec is
block mappings of plain keys, one per line; for such a text the node a path
names starts at a place the lines show: a key's value starts after `key: `,
and a mapping (what libyaml reports for a missing key's parent) starts at
its first key. Whenever the text or the path leaves that form (quotes, flow
collections, anchors, tags, block scalars, sequences, several documents,
non-ASCII, tabs), `block_position` answers None and the composer is asked,
so every answer is the one composing would give (tests/load compares the
two on many texts and every path).
"""

from __future__ import annotations

from typing import Final

from batchspec.diagnostics import DocPath
from batchspec.patterns import lazy

Position = tuple[int, int]

# What could make a line's structure differ from its indentation: a
# character outside printable ASCII (tabs, CR, other line breaks), a
# document marker, or a node starting with an indicator (quote, flow
# collection, block scalar, anchor, alias, tag, complex key, directive).
# Both are found by deleting every other byte of the (ASCII) text: two C
# passes where the regexes they replace cost a third of locating a warning.
_PRINTABLE: Final = bytes(range(0x20, 0x7F)) + b"\n"
_INDICATORS: Final = "\"'{[|>&*!%@`?,]}"
_NOT_INDICATOR: Final = bytes(c for c in range(0x80) if chr(c) not in _INDICATORS)
_KEY: Final = lazy(r"([A-Za-z0-9_$][A-Za-z0-9_.$/-]*):(?= |$)")


def simple_lines(text: str) -> list[str] | None:
    """The text's lines when it is one plain block-style document, else None."""
    return text.split("\n") if plain_block(text) else None


def plain_block(text: str) -> bool:
    """Whether the text is one plain block-style document (`simple_lines`)."""
    if (
        not text.isascii()
        or "&" in text
        or text.startswith(("---", "..."))
        or "\n---" in text
        or "\n..." in text
    ):
        return False
    raw = text.encode("ascii")
    if raw.translate(None, _PRINTABLE):  # a control character or DEL
        return False
    # few: `*` of a wildcard, `{` of a variable; each looked at where it is
    for char in set(raw.translate(None, _NOT_INDICATOR).decode("ascii")):
        at = text.find(char)
        while at >= 0:
            if _starts_node(text, at):
                return False
            at = text.find(char, at + 1)
    return True


def _starts_node(text: str, at: int) -> bool:
    """Whether the character at `at` may start a node: first on its line, or
    after `: ` or `- ` (plain scalars hold indicators anywhere else)."""
    before = at - 1
    while before >= 0 and text[before] == " ":
        before -= 1
    if before < 0 or text[before] == "\n":
        return True
    return text[before] in ":-" and before + 1 < at


def block_position(
    lines: list[str], path: DocPath, *, key: bool = False, text: str | None = None
) -> Position | None:
    """(line, column) of the node at `path` (its key when `key`), or of the
    mapping that lacks the first missing key; None when unsure. `text`, the
    text `lines` were split from, lets a top-level key be found by one
    search instead of a look at every line before it."""
    start = _content(lines, 0)
    if start is None or lines[start].lstrip(" ")[:1] == "-":
        return None
    indent = len(lines[start]) - len(lines[start].lstrip(" "))
    pos = (start + 1, indent + 1)
    for depth, part in enumerate(path):
        if not isinstance(part, str):
            return None
        found = _top_key(text, part) if text is not None and depth == indent == 0 else None
        if found is None:
            found = _find_key(lines, start, indent, part)
        if found is None:
            return None
        if found < 0:
            return pos
        line = lines[found]
        match = _KEY.match(line, indent)
        assert match is not None  # _find_key matched it
        rest = line[match.end() :]
        value = rest.lstrip(" ")
        last = depth == len(path) - 1
        if value and value[0] != "#":
            column = match.end() + len(rest) - len(value) + 1
            return (found + 1, indent + 1) if key and last else (found + 1, column)
        child = _content(lines, found + 1)
        if child is None:
            return None
        child_indent = len(lines[child]) - len(lines[child].lstrip(" "))
        if child_indent <= indent or lines[child].lstrip(" ")[:1] == "-":
            return None  # an empty value or a sequence: the composer knows
        if last:
            return (found + 1, indent + 1) if key else (child + 1, child_indent + 1)
        start, indent, pos = child, child_indent, (child + 1, child_indent + 1)
    return pos


def _content(lines: list[str], start: int) -> int | None:
    """The first line at or after `start` holding more than a comment."""
    for i in range(start, len(lines)):
        body = lines[i].lstrip(" ")
        if body and body[0] != "#":
            return i
    return None


_FIRST_CONTENT: Final = lazy(r"(?:[ ]*(?:#.*)?\n)*( *)([^ \n])")  # skips blank and comment lines


def first_key_position(text: str, path: DocPath, *, key: bool = False) -> Position | None:
    """`block_position` for the commonest located path, a top-level key's
    first key with a value on its line (`spec.target` of the retirement
    warning), read around those two lines: splitting the text and walking
    its lines cost more than checking the spec. Only the text up to the end
    of that line must be plain block style (`plain_block`): what follows a
    node cannot move where it starts in a text a parser has read, and
    looking at all of it cost as much as finding the line. None for any
    other shape (then the caller reads the lines or composes)."""
    if len(path) != 2 or not isinstance(path[0], str) or not isinstance(path[1], str):
        return None
    first = _FIRST_CONTENT.match(text)
    if first is None or first[1] or first[2] in "-#":
        return None
    at = _top_offset(text, path[0])
    end = text.find("\n", at) if at is not None else -1
    if at is None or end < 0 or text[at + len(path[0]) + 1 : end].strip(" ")[:1] not in ("", "#"):
        return None  # no such key, or a value on its line: the lines say
    child = _FIRST_CONTENT.match(text, end + 1)
    if child is None or not child[1] or child[2] in "-#":
        return None
    start, indent = child.start(1), len(child[1])
    match = _KEY.match(text, start + indent)
    if match is None or match[1] != path[1]:
        return None
    line_end = text.find("\n", match.end())
    rest = text[match.end() : line_end if line_end >= 0 else len(text)]
    value = rest.lstrip(" ")
    if not value or value[0] == "#" or not plain_block(text[: match.end() + len(rest)]):
        return None
    line = text.count("\n", 0, start) + 1
    return (line, indent + 1) if key else (line, match.end() - start + len(rest) - len(value) + 1)


def _top_key(text: str, part: str) -> int | None:
    """The line of top-level key `part`, when a line starts with `part: `
    (or is `part:`); None otherwise (then the lines are read one by one).
    In a plain block-style mapping at indentation 0 every line starting
    without a space is a key of it or a comment (a value's continuation is
    indented, sequences start with `-`), and a key is written once."""
    at = _top_offset(text, part)
    return None if at is None else text.count("\n", 0, at)


def _top_offset(text: str, part: str) -> int | None:
    """Where the line of top-level key `part` starts (`_top_key`)."""
    if not part.isidentifier():
        return None
    head = part + ":"
    at = 0
    if not text.startswith(head):
        at = text.find("\n" + head) + 1
        if at == 0:
            return None
    end = at + len(head)
    if end < len(text) and text[end] not in " \n":
        return None
    return at


def _find_key(lines: list[str], start: int, indent: int, part: str) -> int | None:
    """The line of key `part` in the block mapping at `indent` starting at
    line `start`; -1 when the mapping has no such key; None when a line of
    the mapping is not a plain `key:` line (or an entry of a sequence that
    is a key's value)."""
    for i in range(start, len(lines)):
        line = lines[i]
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            continue
        at = len(line) - len(body)
        if at < indent:
            return -1
        if at > indent or (body[0] == "-" and body[1:2] in ("", " ")):
            continue
        match = _KEY.match(line, indent)
        if match is None:
            return None
        if match.group(1) == part:
            return i
    return -1
