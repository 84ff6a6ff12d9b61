"""Checks that run on a spec's text before any YAML parser sees it.

Every YAML parser batchspec can use recurses somewhere: flow collections or
block sequences nested tens of thousands deep crash ruamel's and libyaml's C
loaders and yaml-rs outright (SIGSEGV: a C stack overflow, which no
`except` catches), and make the pure-Python parsers spend minutes before
their RecursionError. So the nesting depth is limited *before* parsing.

The check is two-tiered so ordinary specs pay almost nothing:

1. an upper bound from counting (C-speed `str.count` and one search): every
   flow level needs a `[` or `{`, and every block level either indents
   further or sits behind a `- `, `? ` or `: ` at the start of its line
   (a block sequence may share its parent mapping's indentation, hence the
   factor 2). A spec is a few levels deep, far below the limit;
2. only when that bound is too loose, the exact depth from the event stream
   of a non-recursive parser, stopping at the first level past the limit
   (libyaml, the C one; ruamel's pure-Python one when libyaml rejects the
   text, because ruamel's verdict is the one batchspec reports).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from typing import Any, Final, Literal

from batchspec.patterns import lazy

MAX_DEPTH: Final = 100  # specs nest 5 to 8 levels; free-form values a few more
# Block indicators and spaces `c`, line breaks themselves, all else blank.
_PREFIX_MARKS: Final = bytes(
    ord("c") if chr(b) in " \t?:&!-" else b if b == 10 else 0 for b in range(256)
)
_RUNS: Final = tuple((b"c" * n, b"\n" + b"c" * n) for n in range(MAX_DEPTH // 2 + 1))
_ESCAPE: Final = lazy(r"\\[uU]")


def check_depth(text: str) -> Literal["ok", "deep", "reference-only"]:
    """`deep` when the text nests collections deeper than MAX_DEPTH; `ok`
    when any parser may read it; `reference-only` when only ruamel's pure
    parser read it to its end or error (libyaml stopped earlier), so only
    that parser is known to stay within the limit."""
    if _depth_bound(text) <= MAX_DEPTH:
        return "ok"
    depth, complete = _event_depth(_libyaml_events(text))
    if depth > MAX_DEPTH:
        return "deep"
    if complete:
        return "ok"
    depth, _ = _event_depth(_ruamel_events(text))
    return "deep" if depth > MAX_DEPTH else "reference-only"


def too_deep(text: str) -> bool:
    """True when the text nests collections deeper than MAX_DEPTH."""
    return check_depth(text) == "deep"


def _depth_bound(text: str) -> int:
    """An upper bound of the nesting depth, or MAX_DEPTH + 1 when it may be
    deeper (then the exact check runs)."""
    # (`in` is a memchr; `count` looks at every character: most specs have no flow)
    flow = text.count("[") + text.count("{") if "[" in text or "{" in text else 0
    allowed = (MAX_DEPTH - 2 - flow) // 2  # block prefix length the bound allows
    if allowed < 0 or _long_prefix(text, allowed + 1):
        return MAX_DEPTH + 1
    return flow + 2 * allowed + 2


def _long_prefix(text: str, length: int) -> bool:
    """Whether a line starts with `length` or more block indicators and
    spaces: marked (`_PREFIX_MARKS`), such a line is a line break and a run
    of marks, one long needle, whose search skips its length past most
    characters (8k instructions for a spec where a regex trying at every
    line break took 10k)."""
    marks = text.encode("utf-8", "surrogatepass").translate(_PREFIX_MARKS)
    first, later = _RUNS[length]
    return marks.startswith(first) or marks.find(later) >= 0


def _event_depth(events: Iterable[Any]) -> tuple[int, bool]:
    """The deepest nesting seen (stopping past MAX_DEPTH) and whether the
    parser read the whole text without error."""
    depth = deepest = 0
    try:
        for event in events:
            name = type(event).__name__
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > MAX_DEPTH:
                        return deepest, False
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
    except Exception as exc:
        if "maximum nesting depth" in str(exc):  # libyaml's own limit (1,000 levels)
            return MAX_DEPTH + 1, False
        return deepest, False
    return deepest, True


def _libyaml_events(text: str) -> Iterator[Any]:
    import yaml

    return iter(yaml.parse(text, Loader=yaml.CSafeLoader))


def _ruamel_events(text: str) -> Iterator[Any]:
    from ruamel.yaml import YAML

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield from YAML(typ="safe", pure=True).parse(text)


# --- values no request body can carry -----------------------------------------


def has_escapes(text: str) -> bool:
    """Only a `\\u`/`\\U` escape in a double-quoted scalar can put a lone
    surrogate into a value (the file itself is strict UTF-8), so values are
    walked only when the text has one."""
    return "\\" in text and _ESCAPE.search(text) is not None


def surrogates(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Document paths of strings (values or keys) holding a lone UTF-16
    surrogate: Python keeps them, but no UTF-8 file or JSON body can."""
    if isinstance(value, str):
        if _has_surrogate(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _has_surrogate(key):
                yield (*path, _printable(key))
            yield from surrogates(item, (*path, key if isinstance(key, str | int) else str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from surrogates(item, (*path, i))


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
