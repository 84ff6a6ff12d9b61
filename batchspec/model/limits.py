"""The spec language's constants and the pure functions over its scalars.

Kept free of pydantic so that everything judging a spec without building
its pydantic models (the rules, `batchspec validate`'s fast lane) can
import them: pydantic alone costs more than `validate` may take to start.
`base`, `spec` and `modelspec` build their models from these and re-export
them under their old names.
"""

from __future__ import annotations

from batchspec.patterns import lazy

API_VERSION = "batchspec.dev/v1"
KIND = "BatchPredictionJob"
MODEL_KIND = "Model"

JOB_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
JOB_NAME_MAX = 128
MODEL_ID_MAX = 63  # UploadModelRequest.modelId: up to 63 of [a-z0-9_-]
DEFAULT_PORT = 8080  # ModelContainerSpec.ports: "defaults to [{containerPort: 8080}]"

DURATION_PATTERN = r"^([0-9]+[smhd])+$"
_DURATION_PART = lazy(r"([0-9]+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Every number has an upper bound: an unbounded one passed validation and then
# overflowed later (`deadline: 99999999999999999999d` raised OverflowError in
# every reconcile pass). Where a service fixes the range, the bound is its.
INT32_MAX = 2**31 - 1  # Vertex AI int32 fields (aiplatform.v1 discovery document)
INT64_MAX = 2**63 - 1  # ML Engine int64 fields (ml.v1 discovery document); SQLite INTEGER
DAY = 86_400
MAX_DEADLINE_SECONDS = 30 * DAY  # batchspec's own policy: a month
DURATION_MAX_LENGTH = 32

MEMORY_PATTERN = r"^[0-9]{1,15}(Ki|Mi|Gi|Ti|k|M|G|T)?$"
_MEMORY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_MEMORY_UNITS.update({"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40})
_MEMORY = lazy(MEMORY_PATTERN)


def memory_bytes(text: str) -> int:
    """`2Gi` -> 2147483648 (Kubernetes quantity suffixes; the pattern is validated)."""
    found = _MEMORY.match(text)
    if found is None:
        raise ValueError(f"not a memory size: {text!r}")
    unit = found.group(1) or ""
    return int(text[: len(text) - len(unit)]) * _MEMORY_UNITS[unit]


def duration_seconds(text: str) -> int:
    """Turn a duration such as ``1h30m`` into seconds (the format is validated)."""
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


def duration_in_bounds(text: str) -> bool:
    """Whether a duration's size is allowed: at most `DURATION_MAX_LENGTH`
    characters and `MAX_DEADLINE_SECONDS` long. Its format is a separate
    rule (BS290, with a hint); this is the part that is structure, so the
    pydantic models and the schema-only check refuse the same texts."""
    return len(text) <= DURATION_MAX_LENGTH and duration_seconds(text) <= MAX_DEADLINE_SECONDS


def span_text(seconds: float, *, gap: str = "", padded_hours: bool = True) -> str:
    """`42s`, `5m12s`, `2h05m`, `1d03h`: an age or a run time in its two largest
    units, as a person reads it at a glance (the reverse of `duration_seconds`,
    rounded). `gap=" "` spaces the units (`5m 12s`) and `padded_hours=False`
    writes `1d3h`, as the web UI's narrow columns do."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{gap}{whole % 60:02d}s"
    if whole < DAY:
        return f"{whole // 3600}h{gap}{whole % 3600 // 60:02d}m"
    hours = whole % DAY // 3600
    return f"{whole // DAY}d{gap}{hours:02d}h" if padded_hours else f"{whole // DAY}d{gap}{hours}h"


# Labels batchspec owns on every job it submits. The fingerprint label is how a
# backend finds a job it already created (exactly-once submission).
LABEL_MANAGED_BY = "managed-by"
LABEL_JOB = "batchspec-job"
LABEL_FINGERPRINT = "batchspec-fp"
LABEL_MODEL = "batchspec-model"  # on uploaded models, in place of the job label
MANAGED_BY_VALUE = "batchspec"
