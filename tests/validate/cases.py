"""Table-driven rule cases: one valid base document per target, a patch, and
what the rule must say, each case citing where the rule comes from.

A case expects either nothing (`code=None`: the service accepts it, so
batchspec must too) or one diagnostic code at one document path, as an error
or (`warn=True`) a warning. Cases are checked in memory (no positions), and
`ALL_CASES` feeds the validate/plan agreement test.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from batchspec.diagnostics import Diagnostic
from batchspec.load.source import Document
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.testing.specs import DROP, spec_doc
from batchspec.validate.validator import validate_document

# Bases beyond the shared ones, as layers on a shared base.
LAYERS: dict[str, tuple[str, dict[str, Any]]] = {
    "gemini": (
        "genai",
        {
            "genai": {"api": "gemini"},
            "project": DROP,
            "region": DROP,
            "model": {"publisher": "models/gemini-2.0-flash"},
            "input": {
                "paths": DROP,
                "requests": [{"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}],
            },
            "output": {"path": DROP},
        },
    ),
    "publisher": (
        "vertex",
        {
            "model": {
                "resource": DROP,
                "publisher": "publishers/google/models/gemini-2.0-flash-001",
            },
            "input": {"paths": ["gs://bucket/in/requests.jsonl"]},
        },
    ),
}


@dataclass(frozen=True)
class Case:
    """One row of a family table."""

    id: str
    base: str
    patch: dict[str, Any]
    code: str | None
    path: str | None = None
    source: str = ""
    warn: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The base document with the patch applied (dotted keys replace what is
        there; DROP removes a key; `metadata` is merged into metadata)."""
        target, layer = LAYERS.get(self.base, (self.base, {}))
        doc = spec_doc("job_one", target, layer, merge=False, **self.patch)
        doc["metadata"].update(copy.deepcopy(self.metadata))
        return doc


def diagnose(case: Case) -> tuple[BatchPredictionJobSpec | None, list[Diagnostic]]:
    """The typed spec (None when it has errors) and every diagnostic."""
    return validate_document(Document("<case>", 0, case.document(), ""))


def check_case(case: Case) -> list[Diagnostic]:
    """Assert the case's promise; return the diagnostics for further checks."""
    assert case.source, f"case {case.id} cites no source"
    spec, found = diagnose(case)
    pairs = [(d.code, d.pointer, d.is_error) for d in found]
    if case.code is None:
        errors = [p for p in pairs if p[2]]
        assert errors == [], f"{case.id}: the service accepts this ({case.source}); got {pairs}"
        assert spec is not None
        return found
    wanted = (case.code, case.path, not case.warn)
    assert wanted in pairs, f"{case.id}: expected {wanted} ({case.source}); got {pairs}"
    return found


def ids(cases: list[Case]) -> list[str]:
    """pytest ids."""
    return [c.id for c in cases]


__all__ = ["LAYERS", "Case", "check_case", "diagnose", "ids"]
