"""Secrets in specs: `${env:NAME}` references, where they may stand, and
resolving them when a job is submitted or run.

Specs live in git, so a secret a job needs (a model server's API token, a
database password) is written as a reference, `${env:NAME}`, and its value
comes from the environment of the process that submits the job (cloud
targets, Ray's `runtimeEnv.env_vars`) or runs it (the local engine's
supervisor, which inherits the environment of `apply`/`reconcile`/`run`).
Everything batchspec keeps or shows holds the reference, never the value:
state, plans, `render`, the engine's job.json, logs. The fingerprint is taken
over the compiled body with the reference in it, so rotating a secret never
replaces a job, and the fingerprint says nothing about the value.

A reference may stand anywhere inside a string (`Bearer ${env:TOKEN}`,
`postgres://app:${env:DB_PASSWORD}@db/prod`), only at the places in
`ALLOWED`; `$${env:` writes a literal `${env:`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from batchspec.diagnostics import format_path
from batchspec.errors import PermanentBackendError
from batchspec.patterns import lazy

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
REFERENCE = lazy(r"\$\{env:(" + NAME + r")\}")
_TOKEN = lazy(r"\$\$\{env:|\$\{env:(" + NAME + r")\}|\$\{env:")
_ESCAPE = "$${env:"

PathPart = str | int
Path = tuple[PathPart, ...]

# Where a spec may hold references ("*" any one key, "**" anything below).
ALLOWED: tuple[Path, ...] = (
    ("spec", "model", "local", "env", "*"),
    ("spec", "model", "local", "initArgs", "**"),
    ("spec", "modelParameters", "**"),
    ("spec", "ray", "runtimeEnv", "env_vars", "*"),
)
ALLOWED_TEXT = (
    "`model.local.env` values, `model.local.initArgs`, `modelParameters` and"
    " `ray.runtimeEnv.env_vars` values"
)


class MissingSecretError(PermanentBackendError):
    """A referenced environment variable is not set where the job is submitted or run."""


def allowed(path: Sequence[PathPart]) -> bool:
    """True when a spec document path may hold references."""
    return any(_matches(tuple(path), pattern) for pattern in ALLOWED)


def _matches(path: Path, pattern: Path) -> bool:
    for i, part in enumerate(pattern):
        if part == "**":
            return len(path) > i
        if i >= len(path) or (part != "*" and path[i] != part):
            return False
    return len(path) == len(pattern)


def strings(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every string leaf of a JSON-like value with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings(item, (*path, index))


def names(text: str) -> list[str]:
    """The variables a string refers to, in order (escaped ones excluded)."""
    return [m[1] for m in _TOKEN.finditer(text) if m[1]]


def has_reference(text: str) -> bool:
    """True when a string holds a reference (or something meant to be one)."""
    return any(not m[0].startswith("$$") for m in _TOKEN.finditer(text))


def syntax_problem(text: str) -> str | None:
    """What is wrong with a string's references, or None."""
    for match in _TOKEN.finditer(text):
        if match[0] == "${env:":
            rest = text[match.end() :].split("}", 1)
            if len(rest) == 1:
                return f"`${{env:{rest[0][:40]}` has no closing `}}`"
            return f"`${{env:{rest[0][:40]}}}` is not a reference: the name must match {NAME}"
    return None


def only_references(text: str) -> bool:
    """True when a string is nothing but references (and spaces)."""
    return bool(names(text)) and not REFERENCE.sub("", text).strip()


def missing(value: Any, env: Mapping[str, str] | None = None) -> list[tuple[str, Path]]:
    """(variable, path) of every reference in `value` that `env` cannot resolve."""
    source = os.environ if env is None else env
    return [(n, path) for path, text in strings(value) for n in names(text) if n not in source]


def resolved_where_submitted(target: str, body: Mapping[str, Any]) -> Any:
    """The part of a compiled body whose references the submitting process
    resolves: all of it, except for Ray, whose job resolves the spec's own
    references on the cluster and only `ray.runtimeEnv.env_vars` here."""
    if target == "ray":
        runtime = ((body.get("spec") or {}).get("ray") or {}).get("runtimeEnv") or {}
        return {"spec": {"ray": {"runtimeEnv": {"env_vars": runtime.get("env_vars") or {}}}}}
    return body


def resolve(value: Any, env: Mapping[str, str] | None = None) -> Any:
    """A copy of `value` with every reference replaced by its variable's value.

    Raises MissingSecretError naming every variable that is not set (and where
    it is used) at once. Call it at the last moment, on the way out: the
    result must never be stored or printed."""
    source = os.environ if env is None else env
    lost = missing(value, source)
    if lost:
        raise MissingSecretError(
            "environment variable(s) not set: "
            + ", ".join(f"{n} (at {format_path(p)})" for n, p in lost),
            hint="set them where the job is submitted or run; batchspec reads them at"
            " that moment and never stores their values",
        )
    return _resolve(value, source)


def _resolve(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        if "${env:" not in value:
            return value
        return _TOKEN.sub(lambda m: _value(m, env), value)
    if isinstance(value, Mapping):
        return {k: _resolve(v, env) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_resolve(v, env) for v in value]
    return value


def _value(match: re.Match[str], env: Mapping[str, str]) -> str:
    if match[0] == _ESCAPE:
        return "${env:"
    return env[match[1]] if match[1] else match[0]


__all__ = [
    "ALLOWED",
    "ALLOWED_TEXT",
    "REFERENCE",
    "MissingSecretError",
    "allowed",
    "has_reference",
    "missing",
    "names",
    "only_references",
    "resolve",
    "resolved_where_submitted",
    "strings",
    "syntax_problem",
]
