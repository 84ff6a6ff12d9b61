"""Generate the published JSON Schema (draft 2020-12) from the spec models.

Two copies are written from the models by `scripts/regen-schema`, and a test
fails when either is stale: `schema/batchspec.v1.schema.json` (what this
repository's own specs point editors at) and the packaged
`batchspec/data/batchspec.v1.schema.json` (in the wheel; `batchspec schema
--path` prints where). Its `$id` is the SchemaStore address the schema is
published under (`schema/schemastore-catalog.json` is the catalog entry), so
a `$schema` link resolves outside this repository too.

A third file, `batchspec/data/structure.v1.schema.json`, is the same schema
cut down to what pydantic itself enforces: the rules' constraints that the
published schema shows editors (`json_schema_extra`: name patterns, lengths)
and the prose are left out, and the one check JSON Schema cannot say (a
duration's bound, `x-batchspec-duration`) is marked. `batchspec validate`
reads a document as a view of it (`batchspec.model.view`), so that a valid
spec is checked without building the pydantic models at all (start-up); see
`batchspec.validate.fastlane`.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel
from pydantic.json_schema import GenerateJsonSchema

from batchspec.model.base import DURATION_MAX_LENGTH, MAX_DEADLINE_SECONDS, Duration, models_in
from batchspec.model.documents import KINDS, AnyDocument
from batchspec.model.view import DURATION_MARK

SCHEMA_ID = "https://json.schemastore.org/batchspec-v1.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    def generate(self, schema: Any, mode: Any = "validation") -> Any:
        out = super().generate(schema, mode=mode)
        return {"$schema": DIALECT, "$id": SCHEMA_ID, **out}


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of one spec document: a `oneOf` by `kind`."""
    schema: dict[str, Any] = AnyDocument.model_json_schema(
        by_alias=True, schema_generator=_Generator
    )
    schema["title"] = "batchspec v1 document (BatchPredictionJob or Model)"
    schema["description"] = (
        "One YAML document of a batchspec spec file: a batch prediction job or a model."
    )
    return schema


def schema_text() -> str:
    """The schema as committed: sorted keys, two-space indent, trailing newline."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# Keywords that only describe (left out of the structure schema) and the mark
# for durations, whose bound pydantic checks after the type (`base.Duration`).
_PROSE = ("title", "description", "examples")
_DURATION_CHECK = next(m for m in get_args(Duration)[1:] if isinstance(m, AfterValidator))


def structure_schema() -> dict[str, Any]:
    """The published schema less the rules' extras and prose: a document is
    valid by it exactly when the pydantic models accept it (tests keep the two
    in agreement), bar the marked duration bounds, which its reader checks."""
    schema = spec_schema()
    defs: dict[str, Any] = schema["$defs"]
    for model in _models():
        properties = defs[model.__name__]["properties"]
        for name, field in model.model_fields.items():
            node = properties[field.alias or name]
            extra = field.json_schema_extra
            for key in extra if isinstance(extra, dict) else ():
                node.pop(key, None)
            if any(m is _DURATION_CHECK for m in _metadata(field.annotation, field.metadata)):
                node[DURATION_MARK] = {
                    "maxLength": DURATION_MAX_LENGTH,
                    "maxSeconds": MAX_DEADLINE_SECONDS,
                }
    schema.pop("$id")  # not the published schema: no address of its own
    cut: dict[str, Any] = _without_prose(schema)
    return cut


def structure_text() -> str:
    """The structure schema as committed: compact, sorted keys."""
    return json.dumps(structure_schema(), sort_keys=True, separators=(",", ":")) + "\n"


def _models() -> Iterator[type[BaseModel]]:
    """Every model reachable from the document kinds, once each."""
    seen: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = list(KINDS.values())
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        yield model
        for field in model.model_fields.values():
            todo.extend(models_in(field.annotation))


def _metadata(annotation: Any, metadata: list[Any]) -> Iterator[Any]:
    """The field's own metadata and that of the Annotated types in its annotation."""
    yield from metadata
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        yield from annotation.__metadata__
        yield from _metadata(get_args(annotation)[0], [])
    elif origin in (typing.Union, types.UnionType):
        for arg in get_args(annotation):
            yield from _metadata(arg, [])


def _without_prose(node: Any) -> Any:
    """The schema without titles and descriptions (a `properties` map keeps
    its keys: a property may be called `description`)."""
    if isinstance(node, list):
        return [_without_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "$defs"):
            out[key] = {name: _without_prose(sub) for name, sub in value.items()}
        elif key not in _PROSE:
            out[key] = _without_prose(value)
    return out
