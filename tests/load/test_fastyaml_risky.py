"""The fast guard's search for risky combinations finds exactly what the
plain list of them (`fastyaml._RISKY`) says, on texts dense in the
characters involved."""

from __future__ import annotations

import random

from batchspec.load import fastyaml


def plain(text: str) -> bool:
    return any(s in text for s in fastyaml._RISKY)


def test_risky_finds_exactly_the_listed_combinations() -> None:
    rng = random.Random(18)
    for alphabet in ("0123456789-:eE_ab\n .*[{,]}XOBxob", "_*0xob.-", " \n[{,_*]}:"):
        for _ in range(20_000):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
            assert fastyaml._risky(text, fastyaml._clues(text)) == plain(text), repr(text)


def test_each_combination_is_found_anywhere_but_at_the_start() -> None:
    for risky in fastyaml._RISKY:
        for text in (f"a{risky}", f"ab {risky} cd", f"x{risky}\n"):
            assert fastyaml._risky(text, fastyaml._clues(text)), repr(text)
