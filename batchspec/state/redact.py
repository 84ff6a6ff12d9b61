"""Keep secrets out of the state file.

Specs live in git, so they should hold no secrets, but a model runner's `env`
is the one place someone will paste a token. State stores bodies only to show
diffs and history, so values under secret-looking keys are replaced before
anything is written. The job itself is submitted with the real body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "<redacted>"
_SECRET_KEY = re.compile(
    r"(secret|token|passw(or)?d|passwd|credential|api[_-]?key|private[_-]?key|auth)", re.I
)


def is_secret_key(key: str) -> bool:
    """True for keys such as `API_KEY`, `db_password`, `authToken`."""
    return bool(_SECRET_KEY.search(key))


def redact(value: Any) -> Any:
    """A copy of `value` with the values of secret-looking keys replaced."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and is_secret_key(k) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
