"""The rules' fast paths and caches say what the general checks say: on
every rule case, under every target, as a pydantic model and as a view."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from batchspec.model.behaviour import _MODEL_WAYS
from batchspec.model.enums import Target
from batchspec.validate import rules, targets
from batchspec.validate.fastlane import fast_view
from batchspec.validate.rules import check_every, common, expressible, reach, storage
from batchspec.validate.rules.core import gemini_api, target_of
from batchspec.validate.structure import check_structure
from tests.compile.test_validate_agrees import ALL_CASES
from tests.validate.cases import Case, ids
from tests.validate.test_rule_reach import _as_target


def _docs(case: Case) -> Iterator[tuple[str, Any]]:
    """The case's document under every target, typed and as a view."""
    data = case.document()
    for target in Target:
        moved = _as_target(data, target.value)
        typed, _ = check_structure(moved)
        for doc in (typed, fast_view(moved)):
            if doc is not None:
                yield target.value, doc


@pytest.mark.parametrize("case", ALL_CASES, ids=ids(ALL_CASES))
def test_quiet_settings_drop_nothing(case: Case) -> None:
    for target, doc in _docs(case):
        service = "gemini" if gemini_api(doc) else target_of(doc)
        said = list(expressible.dropped(doc, target, service))
        if expressible._quiet(doc, service):
            assert said == [], (case.id, target)


def test_quiet_settings_answer_most_cases_at_a_glance() -> None:
    """The fast path is taken (it is no use if it always says "look")."""
    answers = [
        expressible._quiet(doc, "gemini" if gemini_api(doc) else target)
        for case in ALL_CASES
        for target, doc in _docs(case)
    ]
    assert sum(answers) > len(answers) / 2


def test_every_service_has_a_quiet_plan() -> None:
    """Every dropped setting is read by `_quiet` (a setting of no known
    kind would fail here, not at a target's first spec)."""
    for service, (errors, warnings) in expressible._DROPPED.items():
        usual, written = expressible._plan(service)
        fields = sum(len(v) if isinstance(v, tuple) else 1 for _, _, v in usual)
        assert fields + sum(len(names) for _, names in written) == len(errors) + len(warnings)


def _rule_caches() -> list[Any]:
    """Every functools cache of the rules modules (what a spec's answer
    may be read from), but the reach table's (it caches no answers)."""
    found = []
    for module in vars(rules).values():
        if isinstance(module, ModuleType) and module is not reach:
            found += [f for f in vars(module).values() if hasattr(f, "cache_clear")]
    return found


def test_caches_answer_as_a_fresh_check() -> None:
    """A cached answer is the one a fresh check gives, whichever spec of
    whichever target filled the cache first (a key missing something the
    answer depends on would show)."""
    docs = [doc for case in ALL_CASES for _, doc in _docs(case)]
    caches = _rule_caches()
    assert rules.storage._input_path_problems in caches
    fresh = []
    for doc in docs:
        for cache in caches:
            cache.cache_clear()
        fresh.append(check_every(doc))
    assert [check_every(doc) for doc in docs] == fresh
    assert [check_every(doc) for doc in reversed(docs)] == fresh[::-1]


URIS = [
    "gs://bucket/folder/",
    "gs://bucket/folder",
    "gs://bucket",
    "gs://bucket/",
    "gs://Bucket/x",
    "gs://goog-bucket/x",
    "gs://my-google-data/x",
    "gs://192.168.1.1/x",
    "gs://ab/x",
    "gs://bucket/a//b",
    "gs://bucket//a",
    "gs://bucket/./a",
    "gs://bucket/a/../b",
    "gs://bucket/.",
    "gs://bucket/..",
    "gs://bucket/.well-known/acme-challenge/x",
    "gs://bucket/a\nb",
    "gs://bucket/" + "x" * 1030,
    "gs://bucket/" + "é" * 600,
    "gs://bucket/a.b/c.d",
]


def _case_uris() -> list[str]:
    """Every gs:// string the rule cases write, anywhere in the document."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node.startswith("gs://"):
            found.append(node)

    for case in ALL_CASES:
        walk(case.document())
    return found


def test_a_well_named_uri_has_no_naming_problem() -> None:
    """`well_named` (asked before making `gcs_problems`' generator) is never
    wrong: where it says nothing is wrong, the whole check says nothing.
    (With `vertex_wildcards` the check skips that question and looks at
    every part; without wildcards it judges the same.)"""
    uris = [u for u in URIS + _case_uris() if not any(c in u for c in "*?[")]
    well = 0
    for uri in uris:
        for folder in (True, False):
            if storage.well_named(uri, folder):
                well += 1
                assert (
                    list(storage.gcs_problems(uri, (), folder=folder, vertex_wildcards=True)) == []
                )
    assert well > len(uris) / 2


@pytest.mark.parametrize("case", ALL_CASES, ids=ids(ALL_CASES))
def test_usual_model_is_what_ways_says(case: Case) -> None:
    for _, doc in _docs(case):
        model, target = doc.spec.model, doc.spec.target
        ways = model.ways()
        one = len(ways) == 1 and ways[0] in targets.MODEL_WAYS[target]
        expected = one and (model.version is None or model.name is not None)
        assert common.usual_model(model, target) == expected, (case.id, target)


def test_the_targets_name_every_way_to_give_a_model() -> None:
    """`usual_model` reads the keys the targets' tables name: a way no
    target takes would go unread (and `ways()` would report it)."""
    assert set().union(*targets.MODEL_WAYS.values()) == set(_MODEL_WAYS)
