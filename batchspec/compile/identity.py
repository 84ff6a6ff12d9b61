"""How a compiled job carries its identity: labels and ML Engine job ids.

A backend must be able to find a job it already submitted (exactly-once
submission), so every body carries batchspec's own labels, one of which holds
the fingerprint. The fingerprint itself is taken over the body *without* those
labels (the label holds the fingerprint, so it cannot be part of it) and, for
ML Engine, with the spec name in place of the derived job id.

The Gemini Developer API stores no labels, so for its bodies (model
`models/...`) the fingerprint label rides at the end of the display name,
`... (batchspec-fp <label>)`, the one field such a batch keeps; the other
managed labels are not carried.

`strip_identity` undoes exactly what `add_identity` does, so a body read back
from a service (or a request seen by a test double) can be fingerprinted again
and compared with the spec: that is how drift is detected.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from batchspec.compile.fingerprint import fingerprint, fingerprint_label
from batchspec.model.enums import Target
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_JOB, LABEL_MANAGED_BY, MANAGED_BY_VALUE
from batchspec.model.spec import JOB_NAME_MAX

MANAGED_LABEL_KEYS = (LABEL_MANAGED_BY, LABEL_JOB, LABEL_FINGERPRINT)
LABEL_MAX = 63
JOB_ID_FINGERPRINT_DIGITS = 12
_LABEL_VALUE_BAD = re.compile(r"[^a-z0-9_-]")
_GEMINI_TAG = re.compile(r" \(batchspec-fp ([0-9a-f]{1,63})\)$")


def gemini_api_body(target: Target, body: Mapping[str, Any]) -> bool:
    """True for a google-genai body bound for the Gemini Developer API."""
    return target is Target.GENAI and str(body.get("model", "")).startswith(
        ("models/", "tunedModels/")
    )


def display_fingerprint(display_name: str) -> tuple[str, str | None]:
    """A Gemini Developer API display name split into the name and the
    fingerprint label batchspec appended (None when there is none)."""
    found = _GEMINI_TAG.search(display_name)
    if found is None:
        return display_name, None
    return display_name[: found.start()], found.group(1)


def managed_labels(name: str, fp: str) -> dict[str, str]:
    """The labels batchspec puts on every job it submits.

    Label values follow the Vertex rules (lowercase letters, digits, `_`, `-`,
    at most 63 characters); the job label is a lookup aid, the fingerprint
    label is the identity."""
    return {
        LABEL_MANAGED_BY: MANAGED_BY_VALUE,
        LABEL_JOB: _LABEL_VALUE_BAD.sub("_", name.lower())[:LABEL_MAX],
        LABEL_FINGERPRINT: fingerprint_label(fp),
    }


def mlengine_job_id(name: str, fp: str, attempt: int = 0) -> str:
    """`<name>_<12 hex of fp>` (plus `_r<attempt>` for resubmits).

    ML Engine job ids are unique among all jobs *ever* created in a project, so
    the id must change with the revision (a new fingerprint) and with each
    resubmit after a failure, yet stay the same for a retried create of the same
    attempt, which the service then refuses with 409: server-side idempotency.
    Job-name rules (ML Engine's documentation): letters, digits, underscores, a letter first, at
    most 128 characters; the name is cut to make room for the suffix."""
    suffix = f"_{fp[:JOB_ID_FINGERPRINT_DIGITS]}" + (f"_r{attempt}" if attempt else "")
    return name[: JOB_NAME_MAX - len(suffix)] + suffix


def body_labels(target: Target, body: Mapping[str, Any]) -> dict[str, str]:
    """The labels a body carries, wherever the target keeps them."""
    if gemini_api_body(target, body):
        _, fp = display_fingerprint(str(body.get("config", {}).get("display_name", "")))
        return {LABEL_FINGERPRINT: fp} if fp else {}
    if target is Target.GENAI:
        extra = body.get("config", {}).get("http_options", {}).get("extra_body", {})
        return dict(extra.get("labels", {}))
    return dict(body.get("labels", {}))


def with_labels(
    target: Target, body: Mapping[str, Any], labels: Mapping[str, str]
) -> dict[str, Any]:
    """A copy of `body` carrying exactly `labels` (none: the field is left out)."""
    out = copy.deepcopy(dict(body))
    if gemini_api_body(target, out):
        config = out.setdefault("config", {})
        name, _ = display_fingerprint(str(config.get("display_name", "")))
        fp = labels.get(LABEL_FINGERPRINT)
        config["display_name"] = f"{name} (batchspec-fp {fp})" if fp else name
        return out
    if target is Target.GENAI:
        config = out.setdefault("config", {})
        options = config.setdefault("http_options", {})
        extra = options.setdefault("extra_body", {})
        extra.pop("labels", None)
        if labels:
            extra["labels"] = dict(labels)
        if not extra:
            options.pop("extra_body")
        if not options:
            config.pop("http_options")
        return out
    out.pop("labels", None)
    if labels:
        out["labels"] = dict(labels)
    return out


def add_identity(target: Target, core: Mapping[str, Any], name: str, fp: str) -> dict[str, Any]:
    """The request body: the fingerprinted core plus batchspec's labels (and, for
    ML Engine, the derived job id)."""
    labels = {**body_labels(target, core), **managed_labels(name, fp)}
    body = with_labels(target, core, labels)
    if target is Target.MLENGINE:
        body["jobId"] = mlengine_job_id(name, fp)
    return body


def strip_identity(target: Target, body: Mapping[str, Any], *, name: str) -> dict[str, Any]:
    """The core of a request body: batchspec's labels removed, the spec `name`
    back in place of a derived ML Engine job id."""
    labels = {k: v for k, v in body_labels(target, body).items() if k not in MANAGED_LABEL_KEYS}
    core = with_labels(target, body, labels)
    if target is Target.MLENGINE:
        core["jobId"] = name
    return core


def request_fingerprint(target: Target, body: Mapping[str, Any], *, name: str) -> str:
    """The fingerprint of a full request body (as compiled or as seen on a service)."""
    return fingerprint(target.value, strip_identity(target, body, name=name))


__all__ = [
    "MANAGED_LABEL_KEYS",
    "add_identity",
    "body_labels",
    "display_fingerprint",
    "gemini_api_body",
    "managed_labels",
    "mlengine_job_id",
    "request_fingerprint",
    "strip_identity",
    "with_labels",
]
