"""Every file in specs/ is a test case: it must validate cleanly (the ML Engine
example with only the warning that its service was shut down)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchspec.validate import validate_paths
from tests.conftest import SPECS

SPEC_FILES = sorted(SPECS.glob("*.yaml"))


def test_there_are_examples_for_each_target() -> None:
    result = validate_paths([str(SPECS)])
    targets = {s.spec.spec.target.value for s in result.specs}
    assert {"local", "vertex", "mlengine", "genai"} <= targets


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_example_spec_is_valid(path: Path) -> None:
    result = validate_paths([str(path)])
    retired = ["BS295"] if path.name == "census_mlengine.yaml" else []
    assert [d.code for d in result.diagnostics] == retired
    assert result.specs
