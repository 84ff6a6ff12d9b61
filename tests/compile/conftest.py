"""Helpers to build typed specs from small YAML snippets."""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from ruamel.yaml import YAML

from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.validate.rules import check_all
from batchspec.validate.structure import check_structure
from tests.compile.strategies import valid_spec

BASE: dict[str, dict[str, Any]] = {
    "vertex": {
        "target": "vertex",
        "project": "proj-123456",
        "region": "us-central1",
        "model": {"resource": "projects/proj-123456/locations/us-central1/models/123"},
        "input": {"format": "JSONL", "paths": ["gs://bucket/in/*"]},
        "output": {"path": "gs://bucket/out/"},
    },
    "mlengine": {
        "target": "mlengine",
        "project": "legacy-proj",
        "region": "us-central1",
        "model": {"name": "census"},
        "input": {"format": "JSONL", "paths": ["gs://bucket/in/*"]},
        "output": {"path": "gs://bucket/out/"},
    },
    "genai": {
        "target": "genai",
        "project": "proj-123456",
        "region": "us-east5",
        "model": {"publisher": "publishers/anthropic/models/claude-3-5-haiku"},
        "input": {"format": "JSONL", "paths": ["gs://bucket/requests.jsonl"]},
        "output": {"path": "gs://bucket/out/"},
    },
}


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `changes` into a copy of `base`; a None value deletes the key."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def make_spec(
    target: str, changes: dict[str, Any] | None = None, *, name: str = "scores", labels: Any = None
) -> BatchPredictionJobSpec:
    """A validated spec: the target's base spec with `changes` merged in."""
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    data = {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": metadata,
        "spec": merge(BASE[target], changes or {}),
    }
    return valid_spec(data)


def structural_spec(target: str, changes: dict[str, Any] | None = None) -> BatchPredictionJobSpec:
    """A spec that passes the structure check only: for tests of what compiling
    refuses (`validate` refuses the same, which those tests also check)."""
    data = {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": {"name": "scores"},
        "spec": merge(BASE[target], changes or {}),
    }
    spec, problems = check_structure(data)
    assert spec is not None, problems
    return spec


def validate_codes(spec: BatchPredictionJobSpec) -> set[tuple[str, str]]:
    """(code, path) of every error `batchspec validate` reports for `spec`."""
    return {(d.code, d.pointer) for d in check_all(spec) if d.is_error}


def from_yaml(text: str) -> BatchPredictionJobSpec:
    """A validated spec from YAML text."""
    return valid_spec(YAML(typ="safe").load(textwrap.dedent(text)))


@pytest.fixture
def spec_for() -> Callable[..., BatchPredictionJobSpec]:
    return make_spec
