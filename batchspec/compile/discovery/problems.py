"""Checking a request against the converted schemas, with readable messages.

Apart from the conversion because it needs `jsonschema` (imported lazily) and
rewrites its errors into the words a user of the service needs: an unknown
field, an output-only field, an int64 sent as a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from batchspec.compile.discovery.documents import discovery_document, find_method
from batchspec.compile.discovery.schema import DOCUMENTED_OVERLAYS, Direction, to_json_schema


@dataclass(frozen=True)
class SchemaProblem:
    """One way a body breaks the discovery schema."""

    path: tuple[str | int, ...]
    message: str

    @property
    def pointer(self) -> str:
        """`predictionInput.inputPaths[0]` style."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "<body>"

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}"


@lru_cache(maxsize=32)
def schema_for(
    api: str, version: str, root: str, direction: Direction = "request"
) -> dict[str, Any]:
    """The converted schema for `root`, with batchspec's documented overlays."""
    return to_json_schema(
        discovery_document(api, version),
        root,
        direction=direction,
        overlays=DOCUMENTED_OVERLAYS,
    )


@lru_cache(maxsize=32)
def _validator(api: str, version: str, root: str, direction: Direction) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema_for(api, version, root, direction))


def schema_problems(
    api: str, version: str, root: str, body: Any, *, direction: Direction = "request"
) -> list[SchemaProblem]:
    """Every way `body` breaks schema `root`, sorted by path."""
    validator = _validator(api, version, root, direction)
    problems = [_problem(error) for error in validator.iter_errors(body)]
    return sorted(problems, key=lambda p: (str(p.path), p.message))


def request_problems(
    api: str,
    version: str,
    method_id: str,
    body: Any,
    params: Mapping[str, str] | None = None,
) -> list[SchemaProblem]:
    """Problems with a request to `method_id`: its path parameters and its body."""
    method = find_method(api, version, method_id)
    out = [SchemaProblem((), p) for p in method.parameter_problems(params or {})] if params else []
    if method.request is not None:
        out.extend(schema_problems(api, version, method.request, body))
    return out


def _problem(error: Any) -> SchemaProblem:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = set(schema.get("properties", {}))
        hidden = set(schema.get("x-outputOnly", []))
        extra = sorted(k for k in error.instance if k not in known)
        parts = [
            f"`{k}` is output only: the service sets it" if k in hidden else f"unknown field `{k}`"
            for k in extra
        ]
        return SchemaProblem(path, "; ".join(parts) or error.message)
    if error.validator == "pattern" and schema.get("x-int64"):
        return SchemaProblem(path, f"{error.instance!r} is not an int64 (a JSON string of digits)")
    if error.validator == "type" and schema.get("x-int64"):
        return SchemaProblem(
            path, f'{error.instance!r} must be an int64 encoded as a JSON string, e.g. "64"'
        )
    return SchemaProblem(path, error.message)
