"""Google's discovery schema dialect converted into JSON Schema (draft 2020-12).

The rules of the conversion are in the package docstring. Kept apart from
loading and method lookup because it is pure: a document in, a schema out,
no files and no caches, so it is tested on hand-written documents too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

DIALECT = "https://json-schema.org/draft/2020-12/schema"
Direction = Literal["request", "response"]
Overlays = Mapping[str, Mapping[str, Mapping[str, Any]]]

_INT64 = r"^-?[0-9]+$"
_UINT64 = r"^[0-9]+$"
_BASE64 = r"^[A-Za-z0-9+/_-]*={0,2}$"
_DATETIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_DURATION = r"^-?[0-9]+(\.[0-9]{1,9})?s$"
_INT_BOUNDS = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
}

# Constraints Google documents in field descriptions rather than as enums.
# Keyed by schema id (v1 and v1beta1 alike), then property name.
_VERTEX_FORMATS: dict[str, dict[str, dict[str, Any]]] = {
    "BatchPredictionJobInputConfig": {
        "instancesFormat": {
            "enum": ["jsonl", "csv", "tf-record", "tf-record-gzip", "bigquery", "file-list"]
        }
    },
    "BatchPredictionJobOutputConfig": {"predictionsFormat": {"enum": ["jsonl", "csv", "bigquery"]}},
    "BatchPredictionJobInstanceConfig": {"instanceType": {"enum": ["object", "array"]}},
}
DOCUMENTED_OVERLAYS: dict[str, dict[str, dict[str, Any]]] = {
    f"GoogleCloudAiplatform{version}{name}": props
    for version in ("V1", "V1beta1")
    for name, props in _VERTEX_FORMATS.items()
}


# --- conversion -----------------------------------------------------------------


def is_output_only(prop: Mapping[str, Any]) -> bool:
    """True for fields the service sets and a client must not send."""
    if prop.get("readOnly"):
        return True
    return str(prop.get("description", "")).lstrip().startswith("Output only.")


def is_required(prop: Mapping[str, Any]) -> bool:
    """True when the description opens with "Required." (not "Required if ...")."""
    return str(prop.get("description", "")).lstrip().startswith("Required.")


def to_json_schema(
    document: Mapping[str, Any],
    root: str,
    *,
    direction: Direction = "request",
    strict_enums: bool = True,
    required: bool = True,
    overlays: Overlays | None = None,
) -> dict[str, Any]:
    """A self-contained JSON Schema for the discovery schema `root`."""
    converter = _Converter(document["schemas"], direction, strict_enums, required, overlays or {})
    defs: dict[str, Any] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        if name not in document["schemas"]:
            raise KeyError(f"discovery document has no schema {name!r}")
        defs[name] = converter.schema(name)
        todo.extend(sorted(converter.refs - defs.keys()))
    return {"$schema": DIALECT, "$ref": f"#/$defs/{root}", "$defs": defs}


class _Converter:
    def __init__(
        self,
        schemas: Mapping[str, Any],
        direction: Direction,
        strict_enums: bool,
        required: bool,
        overlays: Overlays,
    ) -> None:
        self.schemas = schemas
        self.request = direction == "request"
        self.strict_enums = strict_enums and self.request
        self.required = required and self.request
        self.overlays = overlays
        self.refs: set[str] = set()

    def schema(self, name: str) -> dict[str, Any]:
        return self.node(self.schemas[name], owner=name)

    def node(self, node: Mapping[str, Any], owner: str | None = None) -> dict[str, Any]:
        if "$ref" in node:
            self.refs.add(node["$ref"])
            return {"$ref": f"#/$defs/{node['$ref']}"}
        kind = node.get("type")
        if kind == "object":
            return self.object(node, owner)
        if kind == "array":
            return {"type": "array", "items": self.node(node.get("items", {"type": "any"}))}
        if kind == "any" or kind is None:
            return {}
        return self.scalar(node)

    def object(self, node: Mapping[str, Any], owner: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object"}
        props = node.get("properties")
        extra = node.get("additionalProperties")
        if props is None:
            # A map (additionalProperties holds the value schema) or a free object.
            if isinstance(extra, Mapping):
                out["additionalProperties"] = self.node(extra)
            return out
        overlay = self.overlays.get(owner or "", {})
        converted: dict[str, Any] = {}
        hidden: list[str] = []
        needed: list[str] = []
        for key in sorted(props):
            prop = props[key]
            if self.request and is_output_only(prop):
                hidden.append(key)
                continue
            schema = self.node(prop)
            if key in overlay:
                schema = {**schema, **overlay[key]}
            converted[key] = schema
            if self.required and is_required(prop):
                needed.append(key)
        out["properties"] = converted
        out["additionalProperties"] = False
        if needed:
            out["required"] = needed
        if hidden:
            out["x-outputOnly"] = hidden  # an annotation: lets messages say why
        return out

    def scalar(self, node: Mapping[str, Any]) -> dict[str, Any]:
        kind, fmt = node.get("type"), node.get("format")
        out: dict[str, Any]
        if kind == "string":
            out = {"type": "string"}
            pattern = {
                "int64": _INT64,
                "uint64": _UINT64,
                "byte": _BASE64,
                "google-datetime": _DATETIME,
                "google-duration": _DURATION,
            }.get(str(fmt))
            if pattern:
                out["pattern"] = pattern
            if fmt in ("int64", "uint64"):
                out["x-int64"] = True
        elif kind == "integer":
            out = {"type": "integer"}
            low, high = _INT_BOUNDS.get(str(fmt), (None, None))
            if low is not None:
                out["minimum"], out["maximum"] = low, high
        elif kind == "number":
            out = {"type": "number"}
        elif kind == "boolean":
            out = {"type": "boolean"}
        else:
            out = {}
        if "enum" in node:
            values = list(node["enum"])
            if self.strict_enums:
                values = [v for v in values if not str(v).endswith("UNSPECIFIED")] or values
            out["enum"] = values
        return out
