"""`batchspec.patterns.lazy`: compiled on first use, then the same as `re.compile`."""

from __future__ import annotations

import re

import pytest

from batchspec.patterns import lazy

TEXT = "a1 b22 c333"


def test_nothing_is_compiled_until_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda p, f=0: calls.append(p) or real(p, f))
    pattern = lazy(r"[a-z](\d+)")
    assert calls == []
    assert pattern.search(TEXT) is not None
    assert pattern.findall(TEXT) == ["1", "22", "333"]
    assert calls == [r"[a-z](\d+)"]  # once, however many calls follow


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("match", (TEXT,)),
        ("match", (TEXT, 3)),
        ("fullmatch", ("b22",)),
        ("search", (TEXT, 4, 8)),
        ("findall", (TEXT,)),
        ("sub", (r"<\1>", TEXT)),
        ("sub", (r"<\1>", TEXT, 1)),
        ("split", (TEXT,)),
    ],
)
@pytest.mark.parametrize("warm", [False, True])
def test_answers_as_the_compiled_pattern(method: str, args: tuple[object, ...], warm: bool) -> None:
    source, compiled = lazy(r"[a-z](\d+)", re.ASCII), re.compile(r"[a-z](\d+)", re.ASCII)
    if warm:
        source.compiled()

    def shown(value: object) -> object:
        return value.group(0, 1) if isinstance(value, re.Match) else value

    assert shown(getattr(source, method)(*args)) == shown(getattr(compiled, method)(*args))
    assert [m.span() for m in source.finditer(TEXT)] == [m.span() for m in compiled.finditer(TEXT)]
    assert source.pattern == compiled.pattern
