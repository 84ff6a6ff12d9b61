"""Checking converters of single values, for views (`batchspec.model.view`):
each returns a value as pydantic holds it, or raises `UnsureError` where
pydantic might not accept it or might read it differently. The common
shapes (nullable text, bounded counts, text labels) are one call each: a
spec's view calls them for every value it holds."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

Convert = Callable[[Any], Any]


class UnsureError(ValueError):
    """pydantic might read this value differently from a view: ask pydantic."""


def enum_member(members: type[StrEnum]) -> Convert:
    """An enum's member by value (a dict lookup: calling the enum costs more)."""
    by_value = {member.value: member for member in members}

    def member(value: Any) -> Any:
        found = by_value.get(value) if type(value) is str else None
        if found is None:
            raise UnsureError(f"not a {members.__name__}")
        return found

    return member


def unchanged(value: Any) -> Any:
    return value


def exactly(kind: type) -> Convert:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise UnsureError(f"not {kind.__name__}")
        return value

    return check


def text_value(node: dict[str, Any], *, nullable: bool = False) -> Convert:
    """Strict text: a str (pydantic's StrictStr), of the constant, one of the
    values, or matching the pattern (a line break never: `$` differs); or
    None when `nullable`."""
    allowed = {node["const"]} if "const" in node else set(node.get("enum", ()))
    pattern = re.compile(node["pattern"]) if "pattern" in node else None
    if not allowed and pattern is None:
        return _nullable_text if nullable else _plain_text

    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if type(value) is not str or (allowed and value not in allowed):
            raise UnsureError("not text pydantic surely takes")
        if pattern is not None and ("\n" in value or not pattern.search(value)):
            raise UnsureError("text off its pattern")
        return value

    return check


def _plain_text(value: Any) -> Any:
    if type(value) is not str:
        raise UnsureError("not text pydantic surely takes")
    return value


def _nullable_text(value: Any) -> Any:
    if value is not None and type(value) is not str:
        raise UnsureError("not text pydantic surely takes")
    return value


def bounded(convert: Convert, node: dict[str, Any], *, nullable: bool = False) -> Convert:
    low, high = node.get("minimum"), node.get("maximum")
    above = node.get("exclusiveMinimum")
    if convert is whole_number and low is not None and high is not None and above is None:
        return _whole_within(low, high, nullable=nullable)

    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        number = convert(value)
        if (
            (low is not None and number < low)
            or (high is not None and number > high)
            or (above is not None and number <= above)
        ):
            raise UnsureError("a number out of its range")
        return number

    return check


def _whole_within(low: int, high: int, *, nullable: bool) -> Convert:
    """`bounded(whole_number, ...)` of a count with both bounds (most are), in one call."""

    def check(value: Any) -> Any:
        if type(value) is int and low <= value <= high:
            return value
        if value is None and nullable:
            return None
        raise UnsureError("a whole number pydantic may refuse, or out of its range")

    return check


def array_of(item: Convert, shortest: int) -> Convert:
    def check(value: Any) -> Any:
        if type(value) is not list or len(value) < shortest:
            raise UnsureError("not a list pydantic surely takes")
        return [item(x) for x in value]

    return check


def mapping_of(each: Convert) -> Convert:
    if each is _plain_text:
        return _text_mapping

    def check(value: Any) -> Any:
        if type(value) is not dict or not all(type(k) is str for k in value):
            raise UnsureError("not a mapping of text keys")
        return {k: each(x) for k, x in value.items()}

    return check


def _text_mapping(value: Any) -> Any:
    """`mapping_of(_plain_text)` (labels) in one loop and one call."""
    if type(value) is not dict:
        raise UnsureError("not a mapping of text keys")
    for key, item in value.items():
        if type(key) is not str or type(item) is not str:
            raise UnsureError("not a mapping of text to text")
    return dict(value)


def whole_number(value: Any) -> Any:
    if type(value) is int:
        return value
    raise UnsureError("a whole number pydantic may refuse")  # 3.0: an integer to JSON Schema


def number_value(value: Any) -> Any:
    kind = type(value)
    if kind is float and math.isfinite(value):
        return value
    if kind is int:
        return float(value)  # pydantic reads a whole number into a float field as a float
    raise UnsureError("a number pydantic may refuse")


__all__ = [
    "Convert",
    "UnsureError",
    "array_of",
    "bounded",
    "enum_member",
    "exactly",
    "mapping_of",
    "number_value",
    "text_value",
    "unchanged",
    "whole_number",
]
