"""Positions read from lines agree with the composed node graph.

`batchspec.load.blockpos` answers only for plain block-style texts and
leaves everything else to the composer. These tests ask both, on the
repository's specs and on generated variants of them (comments, blank
lines, odd spacing, quotes, flow values, sequences, block scalars), for
every path of every node, every key, and a missing key under every mapping:
wherever the line reader answers, its answer is the composer's.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import yaml

from batchspec.load.blockpos import block_position, first_key_position, simple_lines
from batchspec.load.positions import PositionIndex
from batchspec.testing.specs import spec_doc
from tests.conftest import SPECS

TARGETS = ("vertex", "genai", "mlengine", "local", "ray")


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    if isinstance(node, dict):
        yield (*prefix, "no_such_key")
        for key, value in node.items():
            yield from _paths(value, (*prefix, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _mutate(text: str, rng: random.Random) -> str:
    """The same data written another way, line by line."""
    out = []
    for line in text.split("\n"):
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        roll = rng.random()
        if roll < 0.08:
            out.append(" " * rng.randint(0, 8) + rng.choice(("# note: x - y", "#: 'q'")))
        elif roll < 0.12:
            out.append(" " * rng.randint(0, 4))
        if ": " in body and rng.random() < 0.2:
            key, _, value = body.partition(": ")
            body = f"{key}:{' ' * rng.randint(1, 4)}{value}"
        if body.endswith(":") and rng.random() < 0.2:
            body += "   # note"
        elif body and not body.startswith("#") and rng.random() < 0.1:
            body += "  # trailing"
        out.append(" " * indent + body)
    return "\n".join(out)


def _texts() -> Iterator[str]:
    rng = random.Random(11)
    for path in sorted(SPECS.glob("*.yaml")):
        yield path.read_text()
    for n in range(60):
        doc = spec_doc(f"job_{n}", TARGETS[n % len(TARGETS)])
        doc["metadata"]["labels"] = {"team": "a", "owner": "b"}
        for style in (False, None):
            for indent in (2, 4):
                text = yaml.safe_dump(doc, default_flow_style=style, indent=indent, sort_keys=False)
                yield text
                yield _mutate(text, rng)
    yield "# only\n\na: 1\nb:\n  c: |\n    x: 1\n  d: 2\n"
    yield "a:\n- 1\n- b: 2\n  c: 3\nd: 4\n"
    yield "---\na: 1\n"
    yield "a: &x 1\nb: *x\n"
    yield 'a: "multi\nb: line"\nc: 1\n'
    yield "a:\n  b: 1\n   # odd comment\n  c: [1,\n  2]\n"


# After the lines a located node starts on, texts go on in every style a
# line reader leaves to the composer: none of it moves that node.
TAILS = (
    "",
    "x: &a 1\ny: *a\n",
    'x: "multi\n  line"\n',
    "x: [1,\n  2]\n",
    "x: |\n  y: 1\n",
    "x: !!str 1\n",
    "? x\n: 1\n",
    "x: \u00e9\n",
    "x: 1\r\ny: 2\n",
    "x: 1\n---\nz: 2\n",
    "x: 1\n...\n",
)


def _tailed(text: str, n: int) -> str:
    return text + TAILS[n % len(TAILS)] if text.endswith("\n") else text


def test_block_positions_agree_with_the_composer() -> None:
    answered = firsts = tailed = 0
    for n, text in enumerate(_texts()):
        for variant in (text, _tailed(text, n)):
            try:
                docs = list(yaml.safe_load_all(variant))
            except yaml.YAMLError:
                continue
            if not docs or not isinstance(docs[0], dict):
                continue
            lines = simple_lines(variant)
            index = PositionIndex(variant)
            for path in _paths(docs[0]):
                for key in (False, True):
                    for given in (None, variant):  # top-level keys by search, or line by line
                        fast = block_position(lines, path, key=key, text=given) if lines else None
                        if fast is not None:
                            answered += 1
                            assert fast == index.composed(0, path, key=key), (variant, path, key)
                    first = first_key_position(variant, path, key=key)  # two lines of the text
                    if first is not None:
                        firsts += 1
                        tailed += lines is None
                        assert first == index.composed(0, path, key=key), (variant, path, key)
    assert answered > 4000
    assert firsts > 200  # the line reader answers for most of these texts
    assert tailed > 50  # and where only the lines before the node are plain


def test_texts_out_of_plain_block_style_go_to_the_composer() -> None:
    for text in (
        "---\na: 1\n",
        "a: &x 1\n",
        'a: "x"\n',
        "a: [1, 2]\n",
        "a: |\n  x\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: é\n",
        "? a\n: b\n",
        "a: !!str b\n",
    ):
        assert simple_lines(text) is None, text


def test_sequences_and_empty_values_are_left_to_the_composer() -> None:
    lines = ["a:", "- 1", "b:", "c: 1"]
    assert block_position(lines, ("a",)) is None
    assert block_position(lines, ("b",)) is None
    assert block_position(lines, ("c", 0)) == (4, 4)  # a scalar has no children
    assert block_position(lines, ("c",)) == (4, 4)
    assert block_position(lines, ("c",), key=True) == (4, 1)
    assert block_position(lines, ("zz",)) == (1, 1)


def test_the_first_key_of_a_top_level_key_needs_plain_lines_only_up_to_it() -> None:
    head = "a: 1\nspec:\n  target: mlengine\n"
    assert first_key_position(head + "b: [1,\n  2]\nc: &x 1\n", ("spec", "target")) == (3, 11)
    for before in ("x: &a 1\n", 'x: "q"\n', "x: [1]\n", "x: |\n  y\n", "x: \u00e9\n", "---\n"):
        assert first_key_position(before + head, ("spec", "target")) is None, before


def test_top_level_keys_found_by_search_where_a_line_starts_with_them() -> None:
    text = "# a: 1\nab: 1\na:\n  b: 2\nspec:x\n"
    lines = text.split("\n")
    assert block_position(lines, ("a", "b"), text=text) == (4, 6)
    assert block_position(lines, ("a",), key=True, text=text) == (3, 1)
    assert block_position(lines, ("spec",), text=text) is None  # no key: read line by line
    assert first_key_position(text, ("a", "b")) == (4, 6)
    assert first_key_position(text, ("a", "b"), key=True) == (4, 3)
    assert first_key_position(text, ("a", "c")) is None  # not the first key: the lines say
    assert first_key_position("a:\n  b:\n    c: 1\n", ("a", "b")) is None
