"""The local and Ray targets: the body is the normalised spec itself.

There is no remote API to shape a request for; the engine reads the spec. The
body is the spec's JSON with defaults filled in, so writing a default out
explicitly does not change the fingerprint, and without the description, which
does not change what runs. `${env:NAME}` references stay references: the
fingerprint is taken over the reference, never over the secret's value.

The `ray` block (cluster address, actor sizing, runtime environment) belongs
to the Ray target alone: the local body leaves it out, so tuning the cluster
never replaces a local job, and the Ray body always holds it, defaults filled
in, so `ray: {}` and no block at all are the same job.
"""

from __future__ import annotations

from typing import Any

from batchspec.model.spec import BatchPredictionJobSpec, RaySettings

# Fields added to the spec language after its first release, with their
# defaults: the body leaves them out while they hold the default, so adding a
# field to the language never changes the fingerprint of (and so never
# replaces) a job that does not use it.
ADDED_FIELDS: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("metadata", "displayName"), None),
    (("spec", "explanationSpec"), None),
    (("spec", "disableContainerLogging"), False),
    (("spec", "genai"), None),
    (("spec", "input", "requests"), None),
    (("spec", "input", "fileName"), None),
)


def local_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The normalised spec as a JSON-ready mapping (without the `ray` block)."""
    body: dict[str, Any] = doc.model_dump(mode="json", by_alias=True)
    body["metadata"].pop("description", None)
    body["metadata"].pop("secretKeys", None)  # which values to redact does not change what runs
    body["spec"].pop("ray", None)
    for path, default in ADDED_FIELDS:
        node = body
        for key in path[:-1]:
            node = node[key]
        if node.get(path[-1]) == default:
            node.pop(path[-1], None)
    return body


def ray_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The local body plus the `ray` block with its defaults."""
    body = local_body(doc)
    settings = doc.spec.ray or RaySettings()
    body["spec"]["ray"] = settings.model_dump(mode="json", by_alias=True)
    return body
