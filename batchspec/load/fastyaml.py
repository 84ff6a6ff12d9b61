"""Parse spec YAML at parser speed, or say that the reference parser must.

yaml-rs (a Rust YAML 1.2 parser) reads a typical spec about 30 times faster
than ruamel.yaml's C-backed loader and 10 times faster than PyYAML's
CSafeLoader (`bench/validate_bench.py`). ruamel.yaml's safe loader stays
the reference for what a spec *means*: the fast parser is used only
where the two are known to agree, and `load_all` returns None everywhere
else so the caller asks the reference. Where they disagree (measured,
`tests/load/test_fastyaml.py` keeps it so):

* tags: yaml-rs drops them silently; batchspec refuses them (BS004);
* anchors and aliases: yaml-rs copies, ruamel shares (the node budget that
  stops "billion laughs" counts shared nodes once) and ruamel allows
  recursive ones;
* timestamps: yaml-rs turns *quoted* dates into dates and reads `12:30:45`
  as a time; the reference reads plain dates only, times never;
* `.NaN`/`.Inf` spellings, numbers like `_1`, `1e1_0`, `0X1F`, `0B1`,
  `0O7`; `=` and `<<` (ruamel's value and merge keys);
* keep-chomping block scalars (`|+`), tabs, `...` end markers, `%`
  directives, NEL/LS/PS line breaks, a BOM inside the text;
* `\\u` escapes: yaml-rs joins UTF-16 surrogate pairs, the reference keeps
  them (and batchspec then reports them, BS006);
* complex keys (`? `, a flow collection before `:`).

Any error from yaml-rs also goes to the reference, which words every syntax,
duplicate-key and tag diagnostic exactly as before.
"""

from __future__ import annotations

import re
from typing import Any

from batchspec.patterns import lazy

_SENTINEL = "__batchspec_end_of_stream__"
# Characters a typical spec never holds: any of them sends the text to the
# reference (tags, anchors, complex and value keys, merge keys, directives,
# tabs, odd line breaks, escapes, `+` of keep chomping).
_RARE = "!&?=<%\t\\+"
_RARE_WIDE = lazy("[\x85\u2028\u2029\ufeff]")  # looked for in non-ASCII texts only
# Common characters in the combinations where the two parsers part ways.
# Anywhere: dates and times (`_DIGITS`), `.NaN`/`.Inf` spellings
# (case-blind) and document end markers (`_dots`). Outside one-line quoted
# scalars (`_RISKY`): aliases and `_1`-like numbers at the start of a
# token, upper-case radix prefixes, flow collections as keys.
_RISKY = (
    *(p + c for c in "*_" for p in " \n[{,"),
    *("._", "-_", "0X", "0O", "0B", "0x_", "0o_", "0b_", "]:", "}:", "] :", "} :"),
)
# Timestamps, times and exponents with `_`: a digit followed by
# `\d\d\d-\d\d?-\d`, `:\d\d` or `[eE][-+]?\d*_`. Each pattern starts at the
# `-`, `:`, `e` or `E` and looks back for the digits: the regex engine then
# scans for one character instead of trying a match at every digit (a test
# holds them equal to the one regex). Each tries at every `:` or `e` of a
# text (together half of the guard's time), so an ASCII text runs them only
# to confirm a hit of the cheaper scans below.
_DIGITS = tuple(
    re.compile(p)
    for p in (
        r"-(?<=\d\d\d\d-)\d\d?-\d",
        r":(?<=\d:)\d\d",
        r"e(?<=\de)[-+]?\d*_",
        r"E(?<=\dE)[-+]?\d*_",
    )
)
# The guard's scans: one translate marks the characters the combinations
# are made of and blanks (NUL) the rest, so that a search for a short string
# of marks stands for one or several combinations; a rare hit is then
# confirmed exactly. `R` marks the rare characters, `dsd` (`\d[-:]\d`) is
# in every date and time, `de` in every exponent (`\d[eE]`), `dX` in every
# upper-case radix prefix, `.LLL` in `.nan` and `.inf` in any case. Marks
# in a str: `in` on bytes first tries its operand as an integer, raising
# and clearing a TypeError that costs more than the search. A search step
# skips the needle's length and one when the character after it is none
# of the needle's (its test looks at the low six bits only: the mark
# characters differ in them), so longer needles cost less.
_CLUE_CLASSES = {
    **dict.fromkeys(_RARE.encode(), ord("R")),
    **dict.fromkeys(b"0123456789", ord("d")),
    **dict.fromkeys(b":-", ord("s")),
    **dict.fromkeys(b"eE", ord("e")),
    **dict.fromkeys(b"XOB", ord("X")),
    **dict.fromkeys(b"nNaAiIfF", ord("L")),
    10: 10,
    46: 46,
}
_CLUES = bytes(_CLUE_CLASSES.get(b, 0) for b in range(256))
_NAN_INF = lazy(r"\.(?:[nN][aA][nN]|[iI][nN][fF])")  # what `.LLL` stands for
_RADIX = lazy("0[XOB]")  # and `dX`
# `_` and `*` where a combination ends in them: each regex scans for its
# one character (a spec has a few), then looks behind it.
_UNDERSCORES = lazy(r"_(?:(?<=[ \n\[{,.-]_)|(?<=0[xob]_))")
_STARS = lazy(r"\*(?<=[ \n\[{,]\*)")
# Whole-line comments, at the start and after each line break (`^` in
# multi-line mode would be tried at every character).
_FIRST_COMMENT = lazy(r" *#.*")
_LATER_COMMENT = lazy(r"\n *#.*")
# One-line quoted scalars without escapes: both parsers read their insides as
# plain characters, so the token-start checks (`_RISKY`) skip them (a cron
# expression, "0 2 * * *", would otherwise look like an alias).
_QUOTED = lazy(r"\"[^\"\\\n]*\"|'[^'\n]*'")
_BLOCK_SCALAR = lazy(r"[|>][-+0-9]*[ \t]*(?:#.*)?$", re.MULTILINE)


def load_all(text: str) -> list[Any] | None:
    """Every document of `text` as plain data, or None when only the
    reference parser can say (see the module docstring)."""
    if "\t" in text or _needs_reference(_without_comment_lines(text)):
        return None
    try:
        import yaml_rs
    except ImportError:  # pragma: no cover - yaml-rs has wheels for every platform we support
        return None
    tail = "" if text.endswith("\n") or not text else "\n"
    if tail and ("|" in text or ">" in text):
        return None  # a block scalar at the very end would gain a line break
    try:
        # yaml-rs returns a bare value for one document and a list for many;
        # an end marker plus a sentinel document makes the shape unambiguous.
        result: Any = yaml_rs.loads(
            f"{text}{tail}...\n--- {_SENTINEL}\n",
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        )
    except Exception:
        return None
    if result == _SENTINEL:
        return []
    if not isinstance(result, list) or not result or result[-1] != _SENTINEL:
        return None
    return result[:-1]


def _needs_reference(text: str) -> bool:
    clues = _clues(text)
    if _rare(text, clues) or _digits(text, clues) or _dots(text, clues):
        return True  # (yaml-rs reads even a quoted date or time as one)
    if text.startswith(("...", "*", "_")):
        return True
    if not _risky(text, clues):
        return False
    if '"' not in text and "'" not in text:
        return True
    # no combination spans a quote: the text holds all its unquoted form holds
    plain = _QUOTED.sub('""', text)
    return _risky(plain, _clues(plain))


def _clues(text: str) -> str:
    """The text marked as `_CLUES` says (UTF-8 bytes of other characters
    are all above 0x7f: blanked)."""
    return text.encode("utf-8", "surrogatepass").translate(_CLUES).decode("ascii")


def _digits(text: str, clues: str) -> bool:
    """Whether a digit starts a timestamp, a time or an exponent with `_`
    (`_DIGITS`); the regexes confirm the clues' hits in an ASCII text (`\\d`
    is any Unicode digit)."""
    if not text.isascii():
        return any(p.search(text) is not None for p in _DIGITS)
    if "dsd" in clues and (
        _DIGITS[0].search(text) is not None or _DIGITS[1].search(text) is not None
    ):
        return True
    return "de" in clues and (
        _DIGITS[2].search(text) is not None or _DIGITS[3].search(text) is not None
    )


def _dots(text: str, clues: str) -> bool:
    """Whether a line starts with `...`, or `.nan` or `.inf` is spelled in
    any case."""
    return "\n..." in clues or (".LLL" in clues and _NAN_INF.search(text) is not None)


def _rare(text: str, clues: str) -> bool:
    """Whether `text` holds a character of `_RARE` (one C-speed `in` for all
    nine, marked `R`), or a rare line break or BOM."""
    return "R" in clues or (not text.isascii() and _RARE_WIDE.search(text) is not None)


def _risky(text: str, clues: str) -> bool:
    """Whether `text` holds any of `_RISKY` (a test holds the two equal)."""
    if _UNDERSCORES.search(text) is not None:
        return True
    if "*" in text and _STARS.search(text) is not None:
        return True
    if "dX" in clues and _RADIX.search(text) is not None:
        return True
    return ("]" in text or "}" in text) and any(s in text for s in ("]:", "}:", "] :", "} :"))


def _without_comment_lines(text: str) -> str:
    """The text the guard looks at: whole-line comments (headers quoting
    dates, `!` or tags in prose) are not YAML content, except inside a block
    scalar, so they are dropped only when the text has none."""
    if "#" not in text:
        return text
    if ("|" in text or ">" in text) and _BLOCK_SCALAR.search(text) is not None:
        return text
    if text[0] == "#":  # (a header: one C-speed search for its end, no regex)
        end = text.find("\n")
        rest = text[end:] if end >= 0 else ""
    else:
        first = _FIRST_COMMENT.match(text)
        rest = text[first.end() :] if first else text
    # most specs' one comment is a first-line header (a schema link): one
    # C-speed `in` then spares the regex its scan of the whole text
    return _LATER_COMMENT.sub("\n", rest) if "#" in rest else rest
