"""The local (and Ray) target: the body is the normalised spec itself.

There is no remote API to shape a request for; the engine reads the spec. The
body is the spec's JSON with defaults filled in, so writing a default out
explicitly does not change the fingerprint, and without the description, which
does not change what runs.
"""

from __future__ import annotations

from typing import Any

from batchspec.model.spec import BatchPredictionJobSpec


def local_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The normalised spec as a JSON-ready mapping."""
    body: dict[str, Any] = doc.model_dump(mode="json", by_alias=True)
    body["metadata"].pop("description", None)
    return body
