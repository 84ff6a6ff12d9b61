"""The JSON form of a plain record: its fields under camelCase keys.

Every record batchspec prints as JSON (`status -o json`, the UI's rows, log
lines, Pulumi inputs) spells its keys as the spec models do (`submitKey`,
`remoteName`); naming the fields once, in output order, keeps a field added
to a record from being forgotten in, or misspelt by, its JSON form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from pydantic.alias_generators import to_camel


@cache
def _keys(names: str) -> tuple[tuple[str, str], ...]:
    """(attribute, camelCase key) pairs of `names`, worked out once per list:
    `to_camel` is a few regexes, and `status -o json` of 10,000 jobs asked it
    280,000 times."""
    return tuple((name, to_camel(name)) for name in names.split())


def camel_fields(
    record: object, names: str, *, time: Callable[[datetime], Any] | None = None
) -> dict[str, Any]:
    """The attributes `names` (space-separated, in output order) of `record`
    under camelCase keys, JSON-ready: an enum as its value, and a datetime as
    `time` writes it (when given; the records' own text form differs: state
    keeps microseconds, the UI whole seconds)."""
    values: dict[str, Any] = {}
    for name, key in _keys(names):
        value = getattr(record, name)
        if isinstance(value, Enum):
            value = value.value
        elif time is not None and isinstance(value, datetime):
            value = time(value)
        values[key] = value
    return values
