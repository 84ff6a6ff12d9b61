"""Typed specs for the compile tests: the shared builder (`batchspec.testing.specs`)
with this suite's variants of the ML Engine and google-genai bases."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from ruamel.yaml import YAML

from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.testing.specs import spec_doc, typed_spec
from batchspec.validate.rules import check_all

# Where the compile tests' bases differ from the shared ones.
VARIANTS: dict[str, dict[str, Any]] = {
    "mlengine": {"project": "legacy-proj", "input": {"format": "JSONL"}},
    "genai": {
        "region": "us-east5",
        "model": {"publisher": "publishers/anthropic/models/claude-3-5-haiku"},
        "input": {"paths": ["gs://bucket/requests.jsonl"]},
    },
}


def make_spec(
    target: str, changes: dict[str, Any] | None = None, *, name: str = "scores", labels: Any = None
) -> BatchPredictionJobSpec:
    """A validated spec: the target's base spec with `changes` merged in."""
    doc = spec_doc(name, target, VARIANTS.get(target, {}), changes or {}, labels=labels or None)
    return typed_spec(doc)


def structural_spec(target: str, changes: dict[str, Any] | None = None) -> BatchPredictionJobSpec:
    """A spec that passes the structure check only: for tests of what compiling
    refuses (`validate` refuses the same, which those tests also check)."""
    doc = spec_doc("scores", target, VARIANTS.get(target, {}), changes or {})
    return typed_spec(doc, rules=False)


def validate_codes(spec: BatchPredictionJobSpec) -> set[tuple[str, str]]:
    """(code, path) of every error `batchspec validate` reports for `spec`."""
    return {(d.code, d.pointer) for d in check_all(spec) if d.is_error}


def from_yaml(text: str) -> BatchPredictionJobSpec:
    """A validated spec from YAML text."""
    return typed_spec(YAML(typ="safe").load(textwrap.dedent(text)))


@pytest.fixture
def spec_for() -> Callable[..., BatchPredictionJobSpec]:
    return make_spec
