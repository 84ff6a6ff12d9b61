"""The golden renderings in tests/golden/ match what batchspec renders now."""

from __future__ import annotations

import difflib

from tests.golden.generate import existing, generate


def test_golden_files_are_current() -> None:
    wanted, found = generate(), existing()
    missing = sorted(str(p) for p in set(wanted) - set(found))
    extra = sorted(str(p) for p in set(found) - set(wanted))
    assert not missing and not extra, (
        f"missing {missing}, extra {extra}: run scripts/regen-golden and review the diff"
    )
    for rel, text in sorted(wanted.items()):
        if found[rel] != text:
            diff = "".join(
                difflib.unified_diff(
                    found[rel].splitlines(True), text.splitlines(True), f"golden/{rel}", "now"
                )
            )
            raise AssertionError(f"{rel} is stale; run scripts/regen-golden\n{diff}")


def test_every_example_has_a_body_for_its_own_target() -> None:
    bodies = {p for p in generate() if p.name.endswith(".json")}
    assert len(bodies) >= 5
