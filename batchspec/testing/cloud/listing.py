"""Listing in the REST double: AIP-160 filters (the subset the backends
send) and page tokens, shared by the jobs and the model registry."""

from __future__ import annotations

import base64
import re
from typing import Any

from batchspec.testing.cloud.jobs import AnswerError

_FILTER_TERM = re.compile(
    r'^\s*(labels\.[A-Za-z0-9_-]+|display_name|state)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$'
)


def filter_matches(text: str, resource: dict[str, Any]) -> bool:
    """The subset of AIP-160 the backends send: `a="b" AND c="d"`."""
    if not text.strip():
        return True
    for term in text.split(" AND "):
        found = _FILTER_TERM.match(term)
        if not found:
            raise AnswerError(400, f"unsupported filter term {term!r}")
        key, value = found.group(1), re.sub(r"\\(.)", r"\1", found.group(2))
        if key.startswith("labels."):
            if (resource.get("labels") or {}).get(key[len("labels.") :]) != value:
                return False
        elif key == "display_name":
            if resource.get("displayName") != value:
                return False
        elif resource.get("state") != value:
            return False
    return True


def page(
    items: list[Any], query: dict[str, str], default_size: int
) -> tuple[list[Any], str | None]:
    size = int(query.get("pageSize") or default_size) or default_size
    token = query.get("pageToken") or ""
    start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    chunk = items[start : start + size]
    end = start + size
    next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return chunk, next_token


__all__ = ["filter_matches", "page"]
