"""The fast guard sends exactly the texts to the reference parser that its
plain definition (written here with one regex or list per check, as the
module docstring states them) sends: every cheaper scan, prefilter and
confirmation together must give the same verdict, on texts dense in the
characters the checks look at."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from batchspec.load import fastyaml

RARE = re.compile("[!&?=<%\t\x85\u2028\u2029\ufeff\\\\+]")
DIGITS = re.compile(r"\d(?:\d\d\d-\d\d?-\d|:\d\d|[eE][-+]?\d*_)")
QUOTED = re.compile(r"\"[^\"\\\n]*\"|'[^'\n]*'")
NAN_INF = re.compile(r"\.(?:[nN][aA][nN]|[iI][nN][fF])")  # ASCII letters, case-blind
RISKY = (
    *(p + c for c in "*_" for p in " \n[{,"),
    *("._", "-_", "0X", "0O", "0B", "0x_", "0o_", "0b_", "\n...", "]:", "}:", "] :", "} :"),
)


def plain_needs_reference(text: str) -> bool:
    if RARE.search(text) or DIGITS.search(text) or NAN_INF.search(text):
        return True
    unquoted = QUOTED.sub('""', text)
    return any(s in unquoted for s in RISKY) or text.startswith(("...", "*", "_"))


ALPHABETS = (
    "0123456789-:eE_ .\n",
    "0XOBxob_.-*[{,]} \n:\"'",
    ".nNaAiIfF\n x0",
    "12-:eE_ \"'a",
    "1\u0661-:_eE.n\u00e9",
    " *_\n[{,.\"'0xX",
)


def texts(alphabet: str, count: int = 20_000, longest: int = 14) -> list[str]:
    rng = random.Random(18)
    return [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest))) for _ in range(count)
    ]


def test_verdicts_equal_the_plain_definition_on_dense_texts() -> None:
    for alphabet in ALPHABETS:
        for text in texts(alphabet):
            assert fastyaml._needs_reference(text) == plain_needs_reference(text), repr(text)


FRAGMENTS = [
    "a", "1", "0", "9", "-", "_", ".", "e", "E", "x", "X", "O", "B", "0x", "0o", "0b", ":", " ",
    "\n", "\n...", "...", "*", "[", "]", "{", "}", ",", "'", '"', ".nan", ".NaN", ".inF", "nan",
    "inf", "2024", "-01", "12:30", "1e", "e-", "\u0661", "\u00e9", "\u0130", "+", "!",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_verdicts_equal_the_plain_definition_on_fragments(parts: list[str]) -> None:
    text = "".join(parts)
    assert fastyaml._needs_reference(text) == plain_needs_reference(text), repr(text)
