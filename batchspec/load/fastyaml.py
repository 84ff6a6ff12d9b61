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
# Common characters in the combinations where the two parsers part ways:
# aliases and `_1`-like numbers at the start of a token, upper-case radix
# prefixes, document end markers, flow collections as keys (`.NaN`/`.Inf`
# spellings are looked for case-blind).
_RISKY = (
    *(p + c for c in "*_" for p in " \n[{,"),
    *("._", "-_", "0X", "0O", "0B", "0x_", "0o_", "0b_", "\n...", "]:", "}:", "] :", "} :"),
)
# Timestamps, times and exponents with `_`: a digit followed by
# `\d\d\d-\d\d?-\d`, `:\d\d` or `[eE][-+]?\d*_`. Each pattern starts at the
# `-`, `:`, `e` or `E` and looks back for the digits: the regex engine then
# scans for one character instead of trying a match at every digit (a third
# of the time; a test holds them equal to the one regex). An ASCII text is
# first marked (`_DIGIT_MARKS`: every byte a class of its own among digits,
# `:`, `-`, `e`/`E`, or nothing) and searched for the combinations as byte
# strings; the four regexes, each trying at every `:` or `e` of the text,
# cost half of the guard.
_DIGITS = tuple(
    re.compile(p)
    for p in (
        r"-(?<=\d\d\d\d-)\d\d?-\d",
        r":(?<=\d:)\d\d",
        r"e(?<=\de)[-+]?\d*_",
        r"E(?<=\dE)[-+]?\d*_",
    )
)
_DIGIT_CLASSES = {**dict.fromkeys(b"0123456789", 1), **dict.fromkeys(b"eE", 4), 58: 2, 45: 3}
_DIGIT_MARKS = bytes(_DIGIT_CLASSES.get(b, 0) for b in range(256))
_TIME = b"\1\2\1\1"  # \d:\d\d
_DATES = (b"\1\1\1\1\3\1\1\3\1", b"\1\1\1\1\3\1\3\1")  # \d{4}-\d\d?-\d
_EXPONENT = b"\1\4"  # \d[eE]: then the regexes say whether `[-+]?\d*_` follows
# For `_risky` and `.nan`/`.inf`: `0`, the radix letters (`X`, `O`, `B`),
# line breaks, dots and the letters of nan and inf (case-blind) marked, all
# else blanked, so each combination is one byte string.
_RISK_CLASSES = dict(zip(b"0XOB\n.nNaAiIfF", b"0XXX\n.nnaaiiff", strict=True))
_RISK_MARKS = bytes(_RISK_CLASSES.get(b, 0) for b in range(256))
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
    if _rare(text) or _digits(text):
        return True  # (yaml-rs reads even a quoted date or time as one)
    plain = _QUOTED.sub('""', text) if '"' in text or "'" in text else text
    marks = _marks(plain)
    if _risky(plain, marks):
        return True
    if plain is not text:
        marks = _marks(text)
    return b".nan" in marks or b".inf" in marks or text.startswith(("...", "*", "_"))


def _digits(text: str) -> bool:
    """Whether a digit starts a timestamp, a time or an exponent with `_`
    (`_DIGITS`); by marks for an ASCII text (`\\d` is any Unicode digit)."""
    if not text.isascii():
        return any(p.search(text) is not None for p in _DIGITS)
    marks = text.encode("ascii").translate(_DIGIT_MARKS)
    if _TIME in marks or _DATES[0] in marks or _DATES[1] in marks:
        return True
    return _EXPONENT in marks and (
        _DIGITS[2].search(text) is not None or _DIGITS[3].search(text) is not None
    )


def _marks(text: str) -> bytes:
    # UTF-8 bytes of other characters are all above 0x7f: blanked
    return text.encode("utf-8", "surrogatepass").translate(_RISK_MARKS)


def _rare(text: str) -> bool:
    """Whether `text` holds a character of `_RARE` (one C-speed `in` each
    beats a character-class regex, and written out they cost half of a
    generator over `_RARE`), or a rare line break or BOM."""
    if (
        "!" in text
        or "&" in text
        or "?" in text
        or "=" in text
        or "<" in text
        or "%" in text
        or "\t" in text
        or "\\" in text
        or "+" in text
    ):
        return True
    return not text.isascii() and _RARE_WIDE.search(text) is not None


def _risky(text: str, marks: bytes | None = None) -> bool:
    """Whether `text` holds any of `_RISKY`, found by looking behind each `_`
    and `*` (a spec has a few) instead of scanning the text once per
    combination (a test holds the two equal); the rest in `marks`, the
    text's `_marks` (two bytes and four: few bytes of a spec are marked)."""
    i = text.find("_", 1)
    while i > 0:
        if text[i - 1] in " \n[{,.-" or text[i - 2 : i] in ("0x", "0o", "0b"):
            return True
        i = text.find("_", i + 1)
    i = text.find("*", 1)
    while i > 0:
        if text[i - 1] in " \n[{,":
            return True
        i = text.find("*", i + 1)
    if marks is None:
        marks = _marks(text)
    if b"0X" in marks or b"\n..." in marks:
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
    first = _FIRST_COMMENT.match(text)
    rest = text[first.end() :] if first else text
    # most specs' one comment is a first-line header (a schema link): one
    # C-speed `in` then spares the regex its scan of the whole text
    return _LATER_COMMENT.sub("\n", rest) if "#" in rest else rest
