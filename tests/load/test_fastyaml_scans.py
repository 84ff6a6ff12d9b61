"""The fast guard's cheap scans find exactly what the plain regexes they
replace found (written here as the reference), on texts dense in the
characters involved: a faster scan must never let a text through that the
plain one sent to the reference parser."""

from __future__ import annotations

import random
import re

from batchspec.load import fastyaml, guard

DIGITS = re.compile(r"\d(?:\d\d\d-\d\d?-\d|:\d\d|[eE][-+]?\d*_)")
RARE = re.compile("[!&?=<%\t\x85\u2028\u2029\ufeff\\\\+]")
COMMENT_LINE = re.compile(r"^ *#.*$", re.MULTILINE)


def texts(alphabet: str, count: int = 20_000, longest: int = 16) -> list[str]:
    rng = random.Random(18)
    return [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest))) for _ in range(count)
    ]


def digits(text: str) -> bool:
    return any(p.search(text) is not None for p in fastyaml._DIGITS)


def test_digit_scans_equal_the_one_regex() -> None:
    for alphabet in ("0123456789-:eE_+ a", "12-:eE_+", "1\u0661-:_eE", "12-:eE_"):
        for text in texts(alphabet):
            plain = DIGITS.search(text) is not None
            assert digits(text) == plain, repr(text)
            assert fastyaml._digits(text, fastyaml._clues(text)) == plain, repr(text)


def test_nan_and_inf_found_case_blind_as_lowering_with_end_markers() -> None:
    for text in texts(".nNaAiIfF x\u0130\n", longest=8):
        lowered = text.lower()
        found = fastyaml._dots(text, fastyaml._clues(text))
        assert found == (".nan" in lowered or ".inf" in lowered or "\n..." in text), repr(text)


def test_each_digit_combination_is_found() -> None:
    for text in ("2024-01-02", "at 12:30", "1e1_0", "1E-_", "x 2e+33_"):
        assert digits(text) and fastyaml._needs_reference(f"a: {text}\n"), text


def test_rare_characters_equal_the_character_class() -> None:
    for text in texts("ab!&?=<%\t\\+\x85\u2028\u2029\ufeff\u00e9", longest=4):
        found = fastyaml._rare(text, fastyaml._clues(text))
        assert found == (RARE.search(text) is not None), repr(text)


def test_comment_lines_dropped_as_by_the_multiline_regex() -> None:
    for text in texts(" #\na:!", longest=20):
        assert fastyaml._without_comment_lines(text) == COMMENT_LINE.sub("", text), repr(text)


def test_long_prefix_found_on_any_line() -> None:
    for length in (1, 4, 7):
        prefix = re.compile(f"^[ \t?:&!-]{{{length}}}", re.MULTILINE)
        for text in texts(" -?:\na\t&!\u00e9\r", count=5_000, longest=3 * length):
            plain = prefix.search(text) is not None
            assert guard._long_prefix(text, length) == plain, repr(text)
