"""Structure checks: pydantic's errors turned into batchspec diagnostics.

The pydantic models are the source of the JSON Schema, so checking a document
against them *is* checking it against the published schema (a test keeps the
two in agreement). Here each pydantic error gets a stable code, the document
path a YAML reader would write, and a hint: a "did you mean" for unknown keys
and values, "quote it" for dates and numbers where text belongs.
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from batchspec.diagnostics import Diagnostic, DocPath
from batchspec.model.base import models_in
from batchspec.model.documents import KINDS, SpecDocument
from batchspec.model.enums import Severity
from batchspec.model.spec import API_VERSION, KIND, BatchPredictionJobSpec

_TYPE_ERRORS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}
_RANGE_ERRORS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_short",
    "too_long",
}


def check_structure(data: dict[str, Any]) -> tuple[SpecDocument | None, list[Diagnostic]]:
    """Validate one document (of the kind it names: a job when it names
    none); return the typed document or the diagnostics."""
    version = _version_problem(data)
    if version:
        return None, [version]
    root = KINDS.get(str(data.get("kind")), BatchPredictionJobSpec)
    try:
        return root.model_validate(data), []
    except ValidationError as exc:
        return None, [_convert(err, root) for err in exc.errors(include_url=False)]


def _version_problem(data: dict[str, Any]) -> Diagnostic | None:
    api, kind = data.get("apiVersion"), data.get("kind")
    if api is not None and api != API_VERSION:
        return Diagnostic(
            "BS100",
            f"unknown apiVersion {api!r}",
            path=("apiVersion",),
            hint=f"this batchspec reads apiVersion: {API_VERSION}",
        )
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):  # `kind: []` too
        guess = difflib.get_close_matches(str(kind), list(KINDS), n=1)
        hint = f"did you mean `{guess[0]}`?" if guess else "one of: " + ", ".join(KINDS)
        return Diagnostic("BS100", f"unknown kind {kind!r}", path=("kind",), hint=hint)
    return None


def _convert(err: Any, root: type[BaseModel]) -> Diagnostic:
    kind: str = err["type"]
    loc, model = _doc_path(tuple(err["loc"]), root)
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown_key(loc, model)
    if kind in ("missing", "union_tag_not_found"):
        name = loc[-1] if kind == "missing" else ctx.get("discriminator", "runner").strip("'")
        parent = loc[:-1] if kind == "missing" else loc
        return Diagnostic(
            "BS102",
            f"missing required key `{name}`",
            path=parent,
            hint=_missing_hint(str(name)),
        )
    if kind in ("literal_error", "enum", "union_tag_invalid"):
        return _invalid_value(kind, loc, value, ctx)
    if kind in _RANGE_ERRORS:
        return Diagnostic("BS105", _range_message(kind, ctx), path=loc)
    if kind in _TYPE_ERRORS or kind.endswith("_type"):
        return _wrong_type(loc, value, _TYPE_ERRORS.get(kind, kind.removesuffix("_type")))
    return Diagnostic("BS104", err["msg"], path=loc)


def _unknown_key(loc: DocPath, model: type[BaseModel] | None) -> Diagnostic:
    key = str(loc[-1])
    known = _aliases(model) if model else []
    guess = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not guess:
        guess = [k for k in known if k.lower() == key.replace("_", "").lower()]
    hint = f"did you mean `{guess[0]}`?" if guess else None
    if not hint and known:
        hint = "allowed here: " + ", ".join(known)
    return Diagnostic("BS101", f"unknown key `{key}`", path=loc, hint=hint)


def _invalid_value(kind: str, loc: DocPath, value: Any, ctx: dict[str, Any]) -> Diagnostic:
    expected = str(ctx.get("expected") or ctx.get("expected_tags") or "")
    options = [o.strip().strip("'\"") for o in expected.replace(" or ", ",").split(",")]
    options = [o for o in options if o]
    guess = difflib.get_close_matches(str(value), options, n=1, cutoff=0.4)
    if not guess:
        guess = [o for o in options if o.lower() == str(value).lower()]
    if str(value).upper() == "JSON" and "JSONL" in options:
        guess = ["JSONL"]
    hint = f"did you mean `{guess[0]}`?" if guess else None
    shown = ", ".join(options)
    if kind == "union_tag_invalid":
        loc = (*loc, "runner")
    return Diagnostic(
        "BS104",
        f"{value!r} is not allowed here; expected one of: {shown}",
        path=loc,
        hint=hint,
    )


def _wrong_type(loc: DocPath, value: Any, wanted: str) -> Diagnostic:
    got = _describe(value)
    hint = None
    if wanted == "text" and isinstance(value, dt.date | dt.datetime):
        hint = f"YAML read this as a date; quote it: '{value.isoformat()}'"
    elif wanted == "text" and isinstance(value, bool):
        hint = "YAML read this as a boolean; quote it"
    elif wanted == "text" and isinstance(value, int | float):
        hint = f"YAML read this as a number; quote it: '{value}'"
    elif wanted == "a whole number" and isinstance(value, str) and value.strip().isdigit():
        hint = f"remove the quotes: {value.strip()}"
    elif wanted == "a list" and isinstance(value, str):
        hint = f"write a list: [{value}] or one `- item` per line"
    return Diagnostic("BS103", f"expected {wanted}, got {got}", path=loc, hint=hint)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dt.date):
        return f"date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _range_message(kind: str, ctx: dict[str, Any]) -> str:
    words = {
        "greater_than": "must be greater than {gt}",
        "greater_than_equal": "must be at least {ge}",
        "less_than": "must be less than {lt}",
        "less_than_equal": "must be at most {le}",
        "too_short": "needs at least {min_length} item(s)",
        "too_long": "allows at most {max_length} item(s)",
    }
    try:
        return words[kind].format(**ctx)
    except KeyError:
        return kind.replace("_", " ")


def _missing_hint(name: str) -> str | None:
    hints = {
        "apiVersion": f"start the document with apiVersion: {API_VERSION}",
        "kind": f"add kind: {KIND}",
        "runner": "one of: python, sklearn, onnx, http, command, container",
        "format": "one of: JSONL, TEXT, CSV, TF_RECORD, TF_RECORD_GZIP, FILE_LIST, BIGQUERY",
    }
    return hints.get(name)


# --- mapping pydantic locations to document paths and models ----------------


def _doc_path(
    loc: tuple[Any, ...], root: type[BaseModel]
) -> tuple[DocPath, type[BaseModel] | None]:
    """Drop the tags pydantic inserts for tagged unions; return the path and the
    model class that owns the last key (for "did you mean")."""
    model: type[BaseModel] | None = root
    path: list[str | int] = []
    owner: type[BaseModel] | None = model
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        if part == "[key]":
            i += 1
            continue
        owner = model
        path.append(part)
        model, tag_models = _child_model(model, part)
        if tag_models and i + 1 < len(parts) and parts[i + 1] in tag_models:
            model = tag_models[parts[i + 1]]
            i += 1  # skip the union tag
        i += 1
    return tuple(path), owner


def _child_model(
    model: type[BaseModel] | None, part: str | int
) -> tuple[type[BaseModel] | None, dict[str, type[BaseModel]]]:
    if model is None or isinstance(part, int):
        return model, {}
    for name, field in model.model_fields.items():
        if (field.alias or name) == part:
            return _models_in(field.annotation)
    return None, {}


def _models_in(annotation: Any) -> tuple[type[BaseModel] | None, dict[str, type[BaseModel]]]:
    found = models_in(annotation)
    if len(found) == 1:
        return found[0], {}
    tags: dict[str, type[BaseModel]] = {}
    for cls in found:
        runner = cls.model_fields.get("runner")
        if runner is not None and get_origin(runner.annotation) is Literal:
            tags[get_args(runner.annotation)[0]] = cls
    return None, tags


def _aliases(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


__all__ = ["Severity", "check_structure"]
