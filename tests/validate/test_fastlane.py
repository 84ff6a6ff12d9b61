"""The fast lane (views checked against the structure schema) agrees with
pydantic: it accepts only what the models accept, its views hold what the
models hold, and the rules say the same over either. Besides the rule
cases, hypothesis changes valid documents at random to look for a value the
views take and pydantic refuses."""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from batchspec.load.source import Document
from batchspec.model.documents import KINDS
from batchspec.model.view import View, view
from batchspec.testing.specs import BASES, model_doc, spec_doc
from batchspec.validate.fastlane import KIND_MODELS, fast_view
from batchspec.validate.structure import check_structure
from batchspec.validate.validator import validate_document
from tests.compile.test_validate_agrees import ALL_CASES
from tests.validate.cases import Case, ids

# What rules call besides fields (behaviour shared by models and views).
BEHAVIOUR = ("ways", "deadline_seconds", "starting_deadline_seconds", "recurring", "name", "port")


def same(seen: Any, typed: Any, where: str = "") -> None:
    """`seen` (a view) holds what `typed` (a pydantic model) holds, type for type."""
    if isinstance(typed, BaseModel):
        assert isinstance(seen, View), where
        assert type(seen).__name__ == type(typed).__name__, where
        assert seen.model_fields_set == typed.model_fields_set, where
        for name in type(typed).model_fields:
            same(getattr(seen, name), getattr(typed, name), f"{where}.{name}")
        for name in BEHAVIOUR:
            if hasattr(typed, name):
                mine, theirs = getattr(seen, name), getattr(typed, name)
                if callable(theirs):
                    mine, theirs = mine(), theirs()
                assert mine == theirs, f"{where}.{name}"
        assert seen.model_dump(exclude_none=True) == typed.model_dump(exclude_none=True), where
    elif isinstance(typed, list):
        assert type(seen) is list and len(seen) == len(typed), where
        for i, (a, b) in enumerate(zip(seen, typed, strict=True)):
            same(a, b, f"{where}[{i}]")
    elif isinstance(typed, dict):
        assert type(seen) is dict and list(seen) == list(typed), where
        for key in typed:
            same(seen[key], typed[key], f"{where}[{key!r}]")
    else:
        alike = seen == typed or (type(typed) is float and math.isnan(typed) and math.isnan(seen))
        assert type(seen) is type(typed) and alike, f"{where}: {seen!r} != {typed!r}"


def agree(data: dict[str, Any]) -> Any:
    """Check `data` both ways; return the view (None: the fast lane declined)."""
    typed, _ = check_structure(data)
    seen = fast_view(data)
    if seen is not None:
        assert typed is not None, "the fast lane accepted what pydantic refuses"
        same(seen, typed)
    return seen


@pytest.mark.parametrize("case", ALL_CASES, ids=ids(ALL_CASES))
def test_every_rule_case_says_the_same_over_views(case: Case) -> None:
    data = case.document()
    seen = agree(data)
    typed, _ = check_structure(data)
    if typed is not None and not _has_dates(data):
        assert seen is not None, "a document pydantic accepts went the slow way"
    doc = Document("<case>", 0, data, "")
    assert validate_document(doc, typed=False)[1] == validate_document(doc)[1]


@pytest.mark.parametrize("target", sorted(BASES))
def test_defaults_are_the_models_defaults(target: str) -> None:
    assert agree(spec_doc("job_one", target)) is not None


FULL: dict[str, Any] = {
    "policy": {"maxRetries": 2, "deadline": "1h30m", "retryBackoffSeconds": 5},
    "schedule": {"cron": "0 3 * * *", "startingDeadline": "10m", "keep": 2},
    "resources": {"machineType": "n1-standard-4", "replicaCount": 2},
    "modelParameters": {"temperature": 0.2, "tags": ["a", 1, None]},
}


def test_a_spec_with_every_common_part_agrees() -> None:
    doc = spec_doc("job_one", "vertex", FULL)
    seen = agree(doc)
    assert seen is not None
    assert seen.spec.policy.retry_backoff_seconds == 5.0
    assert type(seen.spec.policy.retry_backoff_seconds) is float  # pydantic's float
    assert seen.spec.policy.deadline_seconds == 5400


@pytest.mark.parametrize(
    "runner",
    [
        {"runner": "python", "callable": "pkg.mod:predict"},
        {"runner": "sklearn", "path": "model.joblib", "sha256": "0" * 64},
        {"runner": "http", "url": "http://localhost:8080/predict"},
        {"runner": "command", "command": ["python", "serve.py"], "port": 8080},
    ],
    ids=lambda r: r["runner"],
)
def test_each_local_runner_agrees(runner: dict[str, Any]) -> None:
    agree(spec_doc("job_one", "local", {"model": {"local": runner}}))


def test_a_model_document_agrees() -> None:
    assert agree(model_doc("reviews")) is not None


@pytest.mark.parametrize(
    ("patch", "why"),
    [
        ({"resources": {"machineType": "n1-standard-4", "replicaCount": 2.0}}, "3.0"),
        ({"policy": {"deadline": "999d"}}, "a duration past its bound"),
        ({"policy": {"maxErrorFraction": float("nan")}}, "NaN"),
        ({"project": dt.date(2024, 1, 1)}, "a date where text belongs"),
        ({"colour": "red"}, "an unknown key"),
    ],
    ids=str,
)
def test_what_pydantic_may_read_otherwise_goes_the_slow_way(
    patch: dict[str, Any], why: str
) -> None:
    doc = spec_doc("job_one", "vertex", patch)
    assert fast_view(doc) is None, why
    fast = validate_document(Document("<t>", 0, doc, ""), typed=False)[1]
    assert fast == validate_document(Document("<t>", 0, doc, ""))[1]
    assert fast, "pydantic words the problem"


@pytest.mark.parametrize("where", [(), ("spec",), ("spec", "output"), ("spec", "labels")], ids=str)
def test_a_key_yaml_read_as_a_number_goes_the_slow_way(where: tuple[str, ...]) -> None:
    """`1: a` is a mapping with an int key; compiled views once took the
    key's declared type on trust and raised TypeError."""
    doc = spec_doc("job_one", "vertex", {"labels": {"team": "a"}})
    parent = doc
    for part in where:
        parent = parent[part]
    parent[1] = "a"
    assert fast_view(doc) is None
    assert validate_document(Document("<t>", 0, doc, ""), typed=False)[1]


def test_the_fast_lane_knows_every_kind_of_document() -> None:
    assert {kind: model.__name__ for kind, model in KINDS.items()} == KIND_MODELS


def test_unknown_kinds_and_versions_go_the_slow_way() -> None:
    for change in ({"kind": "Job"}, {"apiVersion": "batchspec.dev/v2"}, {"kind": None}):
        assert fast_view({**spec_doc("job_one", "vertex"), **change}) is None
    assert fast_view(["not", "a", "mapping"]) is None


def test_a_view_is_read_only_data_with_the_models_names() -> None:
    seen = view("BatchPredictionJobSpec", spec_doc("job_one", "vertex"))
    assert type(seen).__name__ == "BatchPredictionJobSpec"
    assert seen.metadata.name == "job_one" and seen.name == "job_one"
    assert "BatchPredictionJobSpec(" in repr(seen)


def _has_dates(data: Any) -> bool:
    if isinstance(data, dict):
        return any(_has_dates(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_dates(v) for v in data)
    return isinstance(data, dt.date | dt.time)


ODD_VALUES = st.sampled_from(
    [None, 0, -1, 3, 3.0, 2.5, 2**70, float("nan"), float("inf"), True, False, "", "x",
     "x\n", "1h", "999d", "0" * 64, "JSONL", "vertex", "python", [], ["a"], [1], {}, {"a": 1},
     {1: "a"}, dt.date(2024, 1, 1)]
)  # fmt: skip
KEYS = st.sampled_from(["colour", "paths", "format", "runner", "deadline", "replicaCount"])


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(node, dict | list):
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            found.extend(_leaves(child, (*path, key)))
    return found


@st.composite
def changed_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document (job of any target, or a model) with a few values
    replaced, keys added or keys removed."""
    doc = copy.deepcopy(
        draw(
            st.sampled_from(
                [spec_doc("job_one", t, FULL if t == "vertex" else {}) for t in sorted(BASES)]
                + [
                    spec_doc(
                        "job_one", "local", {"model": {"local": {"runner": "http", "url": "u"}}}
                    )
                ]
                + [model_doc("reviews")]
            )
        )
    )
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_leaves(doc)))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "add", "drop"]))
        if action == "replace":
            parent[path[-1]] = copy.deepcopy(draw(ODD_VALUES))
        elif action == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = copy.deepcopy(draw(ODD_VALUES))
        elif action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
    return doc


@settings(max_examples=400, deadline=None)
@given(changed_documents())
def test_views_never_take_what_pydantic_refuses(doc: dict[str, Any]) -> None:
    agree(doc)
