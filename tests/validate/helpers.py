"""Spec documents for rule tests (the shared builder, patched without merging),
written to a file and validated."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from batchspec.diagnostics import Diagnostic
from batchspec.testing.specs import DROP, spec_doc
from batchspec.validate import validate_paths

__all__ = ["DROP", "check", "codes", "document", "dump"]


def document(target: str = "vertex", name: str = "job_one", **patch: Any) -> dict[str, Any]:
    """A valid document for `target`, with `patch` applied to `spec`.

    Patch keys use dots for nesting (`input.format`); a value replaces what is
    there, and DROP removes a key (the shared builder's rules, without merging).
    """
    return spec_doc(name, target, merge=False, **patch)


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
