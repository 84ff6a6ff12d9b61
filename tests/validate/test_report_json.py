"""`validate -o json` writes exactly what json.dumps(indent=2) would, though
it fills the indentation itself around json's C string escape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchspec.diagnostics import Diagnostic
from batchspec.model.enums import Severity
from batchspec.validate import report
from batchspec.validate.report import _objects, dumps_indented, render_json

# quotes, backslashes, newlines, braces and separators as a message may hold them
awkward = st.text(
    st.sampled_from(
        ['"', "\\", "\n", "\t", "}", "{", ",", " ", "é", "\u2028", "😀", "\x00", "%", "a"]
    )
)
texts = st.one_of(st.text(), awkward)
optional_ints = st.none() | st.integers(min_value=-(2**70), max_value=2**70)

diagnostics = st.builds(
    Diagnostic,
    code=texts,
    message=texts,
    severity=st.sampled_from(Severity),
    file=st.none() | texts,
    line=optional_ints,
    column=optional_ints,
    path=st.lists(st.text() | st.integers(min_value=0), max_size=3).map(tuple),
    hint=st.none() | texts,
    document=optional_ints,
    excerpt=st.none() | texts,
)


def expected(found: list[Diagnostic], files: int, specs: int) -> str:
    """The report as json.dumps(indent=2) writes it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "dumps_indented", lambda payload: json.dumps(payload, indent=2))
        return render_json(found, files=files, specs=specs)


@settings(max_examples=300, deadline=None)
@given(st.lists(diagnostics, max_size=6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_the_report_is_what_json_dumps_writes(
    found: list[Diagnostic], files: int, specs: int
) -> None:
    assert render_json(found, files=files, specs=specs) == expected(found, files, specs)


def test_diagnostics_take_the_c_encoder() -> None:
    found = [
        Diagnostic("BS002", 'a "quoted"\\ message\nover lines, é', file="a.yaml", line=3),
        Diagnostic("BS211", "warned", Severity.WARNING, hint="move it", path=("spec", 0)),
    ]
    _objects([d.to_dict() for d in found])  # raises when it leaves them to json.dumps
    assert render_json(found, files=2, specs=1) == expected(found, 2, 1)
    assert render_json([], files=0, specs=0) == expected([], 0, 0)  # "diagnostics": []


scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(texts | st.integers(), values, max_size=4))
def test_any_other_shape_is_written_as_json_dumps_does(payload: dict[Any, Any]) -> None:
    assert dumps_indented(payload) == json.dumps(payload, indent=2)
