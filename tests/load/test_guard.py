"""Nesting is limited before any parser runs; lone surrogates are found."""

from __future__ import annotations

import pytest

from batchspec.load import guard


def flow(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


def block(depth: int) -> str:
    return "a:\n  " + "- " * depth + "x\n"


@pytest.mark.parametrize("make", [flow, block])
def test_depth_at_the_limit_passes_and_one_more_fails(make: object) -> None:
    assert callable(make)
    assert not guard.too_deep(make(guard.MAX_DEPTH - 1))
    assert guard.too_deep(make(guard.MAX_DEPTH + 1))


def test_cheap_bound_vouches_for_ordinary_text() -> None:
    text = "a:\n  b:\n    - c: [1, 2]\n      d: {e: f}\n"
    assert guard._depth_bound(text) <= guard.MAX_DEPTH


def test_many_shallow_brackets_are_not_deep() -> None:
    text = "a:\n" + "".join(f"  - [{i}, {{b: {i}}}]\n" for i in range(300))
    assert guard._depth_bound(text) > guard.MAX_DEPTH  # the exact check runs
    assert not guard.too_deep(text)


def test_libyaml_rejection_falls_back_to_the_reference_events() -> None:
    # libyaml rejects an empty flow key; ruamel (the reference) reads it
    shallow = "a: { : b}\nd: " + "[" * 60 + "]" * 60 + "\n" + "e: [1]\n" * 50
    assert guard.check_depth(shallow) == "reference-only"
    deep = "a: { : b}\nd: " + "[" * 150 + "]" * 150 + "\n"
    assert guard.check_depth(deep) == "deep"
    # past a syntax error no parser reads on, however deep the rest
    broken = "a: [1\nb: " + "[" * 150 + "]" * 150 + "\n"
    assert guard.check_depth(broken) == "reference-only"


def test_tens_of_thousands_deep_stops_early() -> None:
    assert guard.too_deep(flow(30_000))
    assert guard.too_deep(block(30_000))
    assert guard.too_deep("a: " + "{a: " * 30_000 + "1" + "}" * 30_000)


def test_surrogates_found_in_values_and_keys() -> None:
    data = {"a": ["ok", "bad\ud800"], "k\udfff": 1, "n": {"x": "\U0001f600"}}
    assert list(guard.surrogates(data)) == [("a", 1), ("k\\udfff",)]
    assert guard.has_escapes('a: "\\ud800"') and not guard.has_escapes("a: b")
