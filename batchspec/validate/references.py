"""`${env:NAME}` references: well formed, and only where a secret may stand.

A reference is resolved when the job is submitted or run (`batchspec.secrets`),
so a typo would surface only then; `validate` catches it first. References
are allowed in `batchspec.secrets.ALLOWED` (runner environment variables,
Python runner init arguments, modelParameters, Ray's env_vars): a reference
in a path, a model name or a label would put the secret's value where the
service shows it to anyone who can list jobs.
"""

from __future__ import annotations

from typing import Any

from batchspec import secrets
from batchspec.diagnostics import Diagnostic


def check_references(data: Any) -> list[Diagnostic]:
    """BS285 for malformed references, BS286 for references out of place."""
    if not _mentions_env(data):
        return []
    out = []
    for path, text in secrets.strings(data):
        if not secrets.has_reference(text):
            continue
        if not secrets.allowed(path):
            out.append(
                Diagnostic(
                    "BS286",
                    "a `${env:...}` reference is not allowed here",
                    path=path,
                    hint=f"references may stand in {secrets.ALLOWED_TEXT};"
                    " write `$${env:` for a literal `${env:`",
                )
            )
            continue
        problem = secrets.syntax_problem(text)
        if problem is not None:
            out.append(
                Diagnostic(
                    "BS285",
                    problem,
                    path=path,
                    hint="write `${env:NAME}` (letters, digits and `_`, not starting with a"
                    " digit), or `$${env:` for a literal `${env:`",
                )
            )
    return out


def _mentions_env(data: Any) -> bool:
    """Whether any string holds `${env:` (every form of a reference starts
    so): most specs hold none, and this walk builds no paths, unlike the one
    that reports them. Containers, and strings long enough to matter, are
    looked at once each, so a value shared by many aliases costs one look
    however often the document repeats it."""
    if not isinstance(data, dict | list | tuple):
        return isinstance(data, str) and "${env:" in data
    seen = {id(data)}
    todo = [data]
    while todo:
        node = todo.pop()
        for item in node.values() if isinstance(node, dict) else node:
            if isinstance(item, str):
                if len(item) > _SHORT:
                    if id(item) in seen:
                        continue
                    seen.add(id(item))
                if "${env:" in item:
                    return True
            elif isinstance(item, dict | list | tuple) and id(item) not in seen:
                seen.add(id(item))
                todo.append(item)
    return False


_SHORT = 64  # strings this short are scanned again rather than remembered


__all__ = ["check_references"]
