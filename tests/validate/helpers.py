"""Build spec documents for rule tests: a valid base per target, then a patch."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from batchspec.diagnostics import Diagnostic
from batchspec.validate import validate_paths

BASES: dict[str, dict[str, Any]] = {
    "local": {
        "target": "local",
        "model": {"local": {"runner": "python", "callable": "pkg.mod:predict"}},
        "input": {"format": "JSONL", "paths": ["data/*"]},
        "output": {"path": "out/"},
    },
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
        "project": "proj-123456",
        "region": "us-central1",
        "model": {"name": "census"},
        "input": {"format": "TEXT", "paths": ["gs://bucket/in/*"]},
        "output": {"path": "gs://bucket/out/"},
    },
    "genai": {
        "target": "genai",
        "project": "proj-123456",
        "region": "us-central1",
        "model": {"publisher": "publishers/google/models/gemini-2.0-flash-001"},
        "input": {"format": "JSONL", "paths": ["gs://bucket/in/requests.jsonl"]},
        "output": {"path": "gs://bucket/out/"},
    },
}

DROP = object()


def patched(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `patch` applied: dotted keys (`input.format`) for
    nesting, the value DROP to remove a key."""
    out = copy.deepcopy(base)
    for dotted, value in patch.items():
        node = out
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if value is DROP:
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)
    return out


def document(target: str = "vertex", name: str = "job_one", **patch: Any) -> dict[str, Any]:
    """A valid document for `target`, with `patch` merged into `spec`.

    Patch keys use dots for nesting (`input.format`); the value DROP removes a key.
    """
    spec = patched(BASES[target], patch)
    return {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": {"name": name},
        "spec": spec,
    }


def dump(*docs: dict[str, Any]) -> str:
    """YAML text of one or more documents."""
    yaml = YAML()
    out = io.StringIO()
    yaml.dump_all(list(docs), out)
    return out.getvalue()


def check(tmp_path: Path, *docs: dict[str, Any]) -> list[Diagnostic]:
    """Write the documents to a file, validate, return every diagnostic."""
    path = tmp_path / "spec.yaml"
    path.write_text(dump(*docs))
    return validate_paths([str(path)]).diagnostics


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    """The codes, in report order."""
    return [d.code for d in diagnostics]
