"""Canonical JSON and the fingerprint that names a job revision.

The fingerprint is a sha256 over the canonical JSON of the compiled body plus
the target, computed *before* batchspec's own labels are added (the label holds
the fingerprint, so it cannot be part of it). Canonical means: keys sorted,
no insignificant whitespace, UTF-8, NaN refused. Same spec, same bytes, same
fingerprint on any machine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

FINGERPRINT_LABEL_LENGTH = 63  # Vertex label values: at most 63 characters


def canonical_json(value: Any) -> bytes:
    """The one byte representation of `value` that fingerprints are taken over."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def fingerprint(target: str, body: Mapping[str, Any]) -> str:
    """Hex sha256 of the target and the canonical body."""
    digest = hashlib.sha256(canonical_json({"target": target, "body": body}))
    return digest.hexdigest()


def fingerprint_label(fp: str) -> str:
    """The label value form: lowercase hex, cut to the label length limit."""
    return fp[:FINGERPRINT_LABEL_LENGTH].lower()
