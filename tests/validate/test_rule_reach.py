"""The per-target check table (`batchspec.validate.rules.reach`) says what
every check says: for every rule case, under every target. (That its file,
batchspec/data/reach.json, is what the sources cite: tests/test_native.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from batchspec.model.enums import Target
from batchspec.validate.fastlane import fast_view
from batchspec.validate.rules import (
    SPEC_RULES,
    TARGET_RULES,
    check_all,
    check_every,
    genai,
)
from batchspec.validate.rules.core import BATCHSPEC, RULES_CITED, Check, Rule
from batchspec.validate.rules.reach import for_target, reached
from batchspec.validate.structure import check_structure
from tests.compile.test_validate_agrees import ALL_CASES
from tests.validate.cases import Case, ids

CHECKS = (*SPEC_RULES, *TARGET_RULES)


def _as_target(data: dict[str, Any], target: str) -> dict[str, Any]:
    spec = {**data["spec"], "target": target}
    if target != "genai":
        spec.pop("genai", None)  # the `genai` block is refused structure elsewhere
    return {**data, "spec": spec}


@pytest.mark.parametrize("case", ALL_CASES, ids=ids(ALL_CASES))
def test_the_table_says_what_every_check_says(case: Case) -> None:
    data = case.document()
    for target in Target:
        moved = _as_target(data, target.value)
        typed, _ = check_structure(moved)
        for doc in (typed, fast_view(moved)):
            if doc is None:
                continue
            assert check_all(doc) == check_every(doc), f"{case.id} as {target.value}"
            for check in CHECKS:  # and each check speaks only through rules of the target
                codes = {r.code for r in _cited(check) if _guards(r, target.value)}
                said = {d.code for d in check(doc)}
                assert said <= codes, (case.id, target, check)


def test_every_cited_rule_is_reached_by_a_check() -> None:
    reached = {rule for check in CHECKS for rule in _cited(check)}
    assert set(RULES_CITED.values()) <= reached


def test_a_check_is_kept_exactly_where_one_of_its_rules_applies() -> None:
    assert genai.gemini_key not in for_target(CHECKS, "mlengine")
    assert genai.gemini_key in for_target(CHECKS, "genai")
    for target in Target:
        kept = for_target(CHECKS, target.value)
        for check in CHECKS:
            wanted = any(_guards(rule, target.value) for rule in _cited(check))
            assert (check in kept) == wanted, (target, check)
        assert len(kept) < len(CHECKS)  # what the table is for


def _cited(check: Check) -> frozenset[Rule]:
    found = reached(check)
    assert found is not None, (
        f"{check} is not in batchspec/data/reach.json: run scripts/regen-schema"
    )
    return found


def _guards(rule: Rule, target: str) -> bool:
    return target in rule.services or BATCHSPEC in rule.services
