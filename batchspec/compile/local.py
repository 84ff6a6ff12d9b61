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


def local_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The normalised spec as a JSON-ready mapping (without the `ray` block)."""
    body: dict[str, Any] = doc.model_dump(mode="json", by_alias=True)
    body["metadata"].pop("description", None)
    body["metadata"].pop("secretKeys", None)  # which values to redact does not change what runs
    body["spec"].pop("ray", None)
    _drop_unset_later_fields(body["spec"]["model"])
    return body


# Fields added to the spec language after jobs were recorded: left out of the
# body while unset, so a job that does not use them keeps the body (and the
# fingerprint) it had, and upgrading batchspec replaces no job.
_LATER_FIELDS = {
    None: ("ref",),
    "http": ("memory",),
    "command": ("memory", "hangTimeoutSeconds"),
}


def _drop_unset_later_fields(model: dict[str, Any]) -> None:
    for key in _LATER_FIELDS[None]:
        if key in model and model[key] is None:
            del model[key]
    local = model.get("local")
    if isinstance(local, dict):
        for key in _LATER_FIELDS.get(local.get("runner"), ()):
            if key in local and local[key] is None:
                del local[key]


def ray_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The local body plus the `ray` block with its defaults."""
    body = local_body(doc)
    settings = doc.spec.ray or RaySettings()
    body["spec"]["ray"] = settings.model_dump(mode="json", by_alias=True)
    return body
