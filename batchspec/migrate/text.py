"""What `batchspec import` refuses before reading a job: input that is not text.

A NUL or another control character in a script or a job body ended up in the
written spec (a trailing NUL became part of `--project`), and a lone UTF-16
surrogate (`"\\ud800"` in JSON) cannot be written as UTF-8 at all. Both are
reported with where they are, in the input's own terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from batchspec.migrate.fields import Problem

# C0 controls and DEL, except tab, line feed and carriage return
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")


def control_characters(text: str) -> list[Problem]:
    """The first control character of the input text, if any."""
    found = _CONTROL.search(text)
    if found is None:
        return []
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return [
        Problem(
            f"line {line} column {column}",
            f"holds the control character U+{ord(found.group()):04X}; import reads text",
            "save the script or the job body as plain UTF-8 text",
        )
    ]


def bad_strings(value: Any, where: str) -> Iterator[Problem]:
    """Strings (keys and values) of a parsed body that no spec can hold.

    Iterative, so a body nested as deep as the JSON reader allows cannot
    exhaust the stack here."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            yield from _string_problem(item, at)
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                yield from _string_problem(key, f"{at} (a key)")
                stack.append((child, f"{at}.{key}" if at else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{at}[{i}]") for i, child in reversed(list(enumerate(item))))


def _string_problem(text: str, at: str) -> Iterator[Problem]:
    if _CONTROL.search(text):
        yield Problem(at or "<value>", "holds a control character", "remove it from the value")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        yield Problem(
            at or "<value>",
            "holds a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF escape)",
            "write the character itself or a complete surrogate pair",
        )
