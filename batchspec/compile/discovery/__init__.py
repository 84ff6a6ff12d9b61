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

The package is split by responsibility: `schema` (the conversion, pure),
`documents` (loading the documents, method lookup, path matching) and
`problems` (validation with readable messages); the last two are shared with
the HTTP doubles the backend tests use. Everything is re-exported here.
"""

from __future__ import annotations

from batchspec.compile.discovery.documents import (
    DiscoveryMethod,
    discovery_document,
    documents_dir,
    endpoint_url,
    find_method,
    match_path,
)
from batchspec.compile.discovery.problems import (
    SchemaProblem,
    request_problems,
    schema_for,
    schema_problems,
)
from batchspec.compile.discovery.schema import DOCUMENTED_OVERLAYS, to_json_schema

__all__ = [
    "DOCUMENTED_OVERLAYS",
    "DiscoveryMethod",
    "SchemaProblem",
    "discovery_document",
    "documents_dir",
    "endpoint_url",
    "find_method",
    "match_path",
    "request_problems",
    "schema_for",
    "schema_problems",
    "to_json_schema",
]
