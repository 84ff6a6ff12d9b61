"""Diagnostic codes are documented and well formed."""

from __future__ import annotations

import re

from batchspec.codes import CODES
from tests.conftest import REPO


def test_every_code_is_documented() -> None:
    text = (REPO / "docs" / "diagnostics.md").read_text()
    missing = [c for c in CODES if f"| {c} |" not in text]
    assert missing == [], "add these codes to docs/diagnostics.md"


def test_codes_are_well_formed_and_names_unique() -> None:
    assert all(re.fullmatch(r"BS\d{3}", c) for c in CODES)
    names = [c.name for c in CODES.values()]
    assert len(names) == len(set(names))
