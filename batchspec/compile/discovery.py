"""Google discovery documents as JSON Schema: the oracle for request bodies.

google-api-python-client ships the discovery documents of every Google API
(`googleapiclient/discovery_cache/documents/ml.v1.json`, `aiplatform.v1.json`,
...). They describe each method's request body in Google's own schema
dialect. This module converts that dialect into JSON Schema (draft 2020-12) so
`jsonschema` can check a body the way the service's JSON parser would:

* ``$ref: Name`` becomes ``{"$ref": "#/$defs/Name"}``; only the schemas a root
  reaches are converted.
* Objects are closed (``additionalProperties: false``): an unknown field fails,
  as it does on the real service (proto3 JSON parsing rejects unknown names).
* ``int64``/``uint64`` travel as JSON *strings* of digits (the discovery
  convention); ``int32``/``uint32`` as bounded integers; ``byte`` as base64,
  ``google-datetime`` as RFC 3339 and ``google-duration`` as ``"3.5s"``.
* Enums list their values; for requests the ``*_UNSPECIFIED`` placeholder is
  dropped (``strict_enums``): the services reject it as "not set".
* Output-only fields (``readOnly`` or a description starting "Output only.")
  are removed from request schemas, so sending them fails. Fields whose
  description starts "Required." are required (request direction only).
* ``overlays`` add documented constraints the discovery document states only
  in prose (Vertex's ``instancesFormat`` values, for instance). They are
  batchspec's reading of Google's documentation, kept apart and named.

The helpers at the bottom (method lookup, path matching, validation with
readable messages) are shared with the HTTP doubles the backend tests use.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from batchspec.errors import BatchspecError

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


# --- loading ------------------------------------------------------------------


def documents_dir() -> Path:
    """Where the installed google-api-python-client keeps its discovery documents.

    Found without importing the package (its import pulls in google-auth)."""
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        raise BatchspecError(
            "google-api-python-client is not installed; its discovery documents are the"
            " reference for request bodies",
            hint="pip install 'batchspec[vertex]'",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents"


@lru_cache(maxsize=8)
def discovery_document(api: str, version: str) -> dict[str, Any]:
    """The parsed discovery document `api.version.json` (cached)."""
    path = documents_dir() / f"{api}.{version}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchspecError(
            f"no discovery document {api}.{version} in {path.parent}",
            hint="upgrade google-api-python-client",
        ) from None
    return data


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


# --- methods ----------------------------------------------------------------------


@dataclass(frozen=True)
class DiscoveryMethod:
    """One REST method of a discovery document."""

    api: str
    version: str
    id: str
    http_method: str
    path: str
    flat_path: str
    request: str | None
    response: str | None
    parameters: Mapping[str, Any]
    root_url: str

    def url(self, *, location: str | None = None, **params: str) -> str:
        """The full URL with path parameters filled in (`{+parent}` keeps slashes),
        on the locational endpoint of `location` when the API has one."""
        path = re.sub(r"\{\+?(\w+)\}", lambda m: params[m.group(1)], self.path)
        root = endpoint_url(self.api, self.version, location) if location else self.root_url
        return root.rstrip("/") + "/" + path

    def parameter_problems(self, params: Mapping[str, str]) -> list[str]:
        """Required path parameters that are missing or break their pattern."""
        problems = []
        for name, spec in self.parameters.items():
            if spec.get("location") != "path":
                continue
            value = params.get(name)
            if value is None:
                if spec.get("required"):
                    problems.append(f"parameter `{name}` is required")
                continue
            pattern = spec.get("pattern")
            if pattern and not re.search(pattern, value):
                problems.append(f"parameter `{name}`={value!r} does not match {pattern}")
        return problems


def endpoint_url(api: str, version: str, location: str) -> str:
    """The API's locational endpoint for `location`, else its global root URL."""
    doc = discovery_document(api, version)
    for endpoint in doc.get("endpoints", []):
        if endpoint.get("location") == location:
            return str(endpoint["endpointUrl"])
    return str(doc.get("rootUrl", ""))


def _methods(resources: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for resource in resources.values():
        yield from resource.get("methods", {}).values()
        yield from _methods(resource.get("resources", {}))


@lru_cache(maxsize=64)
def find_method(api: str, version: str, method_id: str) -> DiscoveryMethod:
    """The method `method_id` (e.g. ``ml.projects.jobs.create``)."""
    doc = discovery_document(api, version)
    for method in _methods(doc.get("resources", {})):
        if method.get("id") == method_id:
            return _method(api, version, doc, method)
    raise KeyError(f"{api}.{version} has no method {method_id!r}")


def _method(
    api: str, version: str, doc: Mapping[str, Any], method: Mapping[str, Any]
) -> DiscoveryMethod:
    return DiscoveryMethod(
        api=api,
        version=version,
        id=method["id"],
        http_method=method["httpMethod"],
        path=method["path"],
        flat_path=method.get("flatPath", method["path"]),
        request=(method.get("request") or {}).get("$ref"),
        response=(method.get("response") or {}).get("$ref"),
        parameters=method.get("parameters", {}),
        root_url=doc.get("rootUrl", ""),
    )


def match_path(
    api: str, version: str, http_method: str, url_path: str
) -> tuple[DiscoveryMethod, dict[str, str]] | None:
    """The method whose ``flatPath`` matches `url_path` (``/v1/projects/p/jobs``),
    with its path parameters rebuilt (``{"parent": "projects/p"}``).

    For HTTP doubles: route a request the way the real front end would."""
    doc = discovery_document(api, version)
    wanted = url_path.lstrip("/").split("?", 1)[0]
    best: tuple[int, DiscoveryMethod, dict[str, str]] | None = None
    for raw in _methods(doc.get("resources", {})):
        if raw["httpMethod"] != http_method.upper():
            continue
        flat = raw.get("flatPath", raw["path"])
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(flat)) + "$"
        found = re.match(regex, wanted)
        if not found:
            continue
        literal = len(re.sub(r"\{\w+\}", "", flat))  # prefer the most specific template
        method = _method(api, version, doc, raw)
        params = _rebuild_params(method, wanted)
        if best is None or literal > best[0]:
            best = (literal, method, params)
    return (best[1], best[2]) if best else None


def _rebuild_params(method: DiscoveryMethod, wanted: str) -> dict[str, str]:
    pattern = re.escape(method.path)
    pattern = re.sub(r"\\\{\\\+(\w+)\\\}", r"(?P<\1>.+)", pattern)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    found = re.match("^" + pattern + "$", wanted)
    return dict(found.groupdict()) if found else {}


# --- validation ---------------------------------------------------------------------


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


__all__ = [
    "DOCUMENTED_OVERLAYS",
    "DiscoveryMethod",
    "SchemaProblem",
    "discovery_document",
    "endpoint_url",
    "find_method",
    "match_path",
    "request_problems",
    "schema_for",
    "schema_problems",
    "to_json_schema",
]
