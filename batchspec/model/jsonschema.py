"""Generate the published JSON Schema (draft 2020-12) from the spec models.

Two copies are written from the models by `scripts/regen-schema`, and a test
fails when either is stale: `schema/batchspec.v1.schema.json` (what this
repository's own specs point editors at) and the packaged
`batchspec/data/batchspec.v1.schema.json` (in the wheel; `batchspec schema
--path` prints where). Its `$id` is the SchemaStore address the schema is
published under (`schema/schemastore-catalog.json` is the catalog entry), so
a `$schema` link resolves outside this repository too.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from batchspec.model.spec import BatchPredictionJobSpec

SCHEMA_ID = "https://json.schemastore.org/batchspec-v1.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    def generate(self, schema: Any, mode: Any = "validation") -> Any:
        out = super().generate(schema, mode=mode)
        return {"$schema": DIALECT, "$id": SCHEMA_ID, **out}


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of one spec document."""
    schema: dict[str, Any] = BatchPredictionJobSpec.model_json_schema(
        by_alias=True, schema_generator=_Generator
    )
    schema["title"] = "batchspec BatchPredictionJob v1"
    return schema


def schema_text() -> str:
    """The schema as committed: sorted keys, two-space indent, trailing newline."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
