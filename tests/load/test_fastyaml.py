"""The fast parser agrees with the reference wherever it answers.

`batchspec.load.fastyaml` answers only where yaml-rs and ruamel.yaml (the
reference for what a spec means) are known to agree; everywhere else it
returns None and the loader asks the reference. These tests hold that
promise on a corpus of tricky YAML and on generated texts.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchspec.load import fastyaml
from batchspec.load.reference import parse_reference
from tests.conftest import SPECS, VALID_VERTEX

CORPUS = [
    # scalars the two parsers resolve differently unless guarded
    *(
        f"k: {s}\n"
        for s in str.split(
            "yes no on off y n true false True TRUE tRUE ~ null Null NULL '' 0 -0 +1 017 0o17"
            " 0o8 0x1F 0X1F 0b101 0B1 0O7 1_000 1__0 _1 1_ 0x1_F 1.0_0 1e1_0 ._ 1,000 1e3 1E3"
            " 1.5e+3 .5 5. -.inf .Inf .INF .nan .NaN .Nan .NAN inf nan NaN 1.15 1.0 +.5 1e400"
            " 2024-01-01 2024-1-1 2024-01-01T10:00:00Z 12:30 12:30:45 1:2:3 190:20:30 0777 09"
            " = << 0. 99999999999999999999 v1 1.15.0 a'b a\"b gs://b/x/* bq://p.d.t"
        )
    ),
    'k: "2024-01-01"\n',
    "k: '12:30:45'\n",
    # quoted scalars hold what would be risky at a token's start
    'cron: "0 2 * * *"\n',
    "cron: '*/5 * * * *'\n",
    'a: "x" \nb: *y\n',
    "a: ['*', _b]\n",
    'k: "a\\" *b"\n',
    'k: "\\ud800"\n',
    'k: "\\ud83d\\ude00"\n',
    'k: "\\u00e9\\x41\\N\\_\\L\\P\\/\\ \\t\\e\\0\\a"\n',
    "k: |\n  x\n  y\n\n",
    "k: |-\n  x\n",
    "k: |+\n  x\n\n",
    "k: >\n  x\n  y\n\n  z\n",
    "k: |\n  x",
    "k: x",
    "k: plain\n  continued\n  more\n",
    "k: 'it''s'\n",
    'k: "multi\n  line"\n',
    "{a: gs://x}\n",
    "1: a\n",
    "true: a\n",
    "null: a\n",
    "? [a, b]\n: c\n",
    "? {a: 1}\n: c\n",
    "{{a: 1}: b}\n",
    "[a, b]: c\n",
    "a:\nb: \n",
    "a: &x 1\nb: *x\n",
    "&a [*a]\n",
    "a: &x [1, 2]\nb:\n  <<: {c: 1}\n",
    "a: 1\n...\n",
    "--- a\n",
    "a: 1\r\nb: 2\r\n",
    "a: b # c\n",
    "a: b#c\n",
    "a:b\n",
    "a: x\x85y\n",
    "a: x\u2028y\n",
    "a: [1, 2, ]\n",
    "a: [a: 1]\n",
    "- a\n- b\n",
    "- - a\n  - b\n",
    "a:\n- b\n- c\n",
    "a: !!str 1\n",
    "a: !Ref x\n",
    "a: \ttab\n",
    "%YAML 1.1\n---\na: yes\n",
    "a: 1\n---\n---\nb: 2\n",
    "",
    "# only\n",
    "---\n",
    "...\n",
    "a: 1\na: 2\n",
    "{a: 1, a: 2}\n",
    "a: [1, 2\n",
    "a:\n  b: 1\n c: 2\n",
    VALID_VERTEX,
    VALID_VERTEX + "---\n" + VALID_VERTEX,
    *(p.read_text() for p in sorted(SPECS.glob("*.yaml"))),
]


def reference(text: str) -> tuple[str, Any]:
    try:
        return "ok", parse_reference(text)
    except Exception as exc:
        return "error", type(exc).__name__


def agree(text: str) -> None:
    fast = fastyaml.load_all(text)
    if fast is None:
        return  # the loader asks the reference
    verdict, expected = reference(text)
    assert verdict == "ok", f"fast path accepted what the reference rejects: {text!r}"
    assert repr(fast) == repr(expected), text
    assert [type(d) for d in fast] == [type(d) for d in expected]


@pytest.mark.parametrize("text", CORPUS)
def test_fast_parser_agrees_with_reference(text: str) -> None:
    agree(text)


def test_fast_parser_answers_for_ordinary_specs() -> None:
    for path in sorted(SPECS.glob("*.yaml")):
        if "\\u" not in path.read_text():
            assert fastyaml.load_all(path.read_text()) is not None, path
    assert fastyaml.load_all(VALID_VERTEX) is not None


FRAGMENTS = [
    "a", "b", "k", "1", "0", "-", "_", ".", "e", "x", "0x", "0o", "+", ":", ": ", "- ", "? ",
    ", ", "[", "]", "{", "}", "'", '"', "#", " ", "  ", "\n", "\n  ", "\n- ", "|", ">", "&a",
    "*a", "!", "!!str", "%", "---", "...", "\\", "\\u00e9", "\\ud800", "2024-01-01", "12:30",
    "true", "null", "~", ".inf", "1e3", "1_0", "gs://b/*", "\t", "<<", "=", "0b", "9", "e+",
    "-0", "1.", "_9", "x_", "Z", "T", "2024", "-01", "T10", "00", "+01:00", "\r\n", "\\x41",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14))
def test_fast_parser_agrees_on_generated_texts(parts: list[str]) -> None:
    agree("".join(parts))


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "name", "paths", "x1"]),
        st.one_of(
            st.text(max_size=12),
            st.integers(),
            st.floats(allow_nan=False),
            st.booleans(),
            st.lists(st.text(max_size=6), max_size=3),
        ),
        max_size=4,
    )
)
def test_fast_parser_agrees_on_dumped_mappings(data: dict[str, Any]) -> None:
    import yaml

    text = yaml.safe_dump(data, allow_unicode=True)
    agree(text)
    agree(yaml.safe_dump(data, default_flow_style=True, allow_unicode=True))
