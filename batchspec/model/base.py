"""What every spec document shares: the strict base model and bounded scalars.

Kept apart from the documents (`spec` for jobs, `modelspec` for models,
`runners` for the local engine's model runners) so each of them imports the
same base without importing the others.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

DURATION_PATTERN = r"^([0-9]+[smhd])+$"
_DURATION_PART = re.compile(r"([0-9]+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Every number has an upper bound: an unbounded one passed validation and then
# overflowed later (`deadline: 99999999999999999999d` raised OverflowError in
# every reconcile pass). Where a service fixes the range, the bound is its.
INT32_MAX = 2**31 - 1  # Vertex AI int32 fields (aiplatform.v1 discovery document)
INT64_MAX = 2**63 - 1  # ML Engine int64 fields (ml.v1 discovery document); SQLite INTEGER
DAY = 86_400
MAX_DEADLINE_SECONDS = 30 * DAY  # batchspec's own policy: a month
DURATION_MAX_LENGTH = 32

PositiveInt = Annotated[StrictInt, Field(ge=1, le=INT64_MAX)]
PositiveInt32 = Annotated[StrictInt, Field(ge=1, le=INT32_MAX)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=INT64_MAX)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, strict=True, allow_inf_nan=False)]
Seconds = Annotated[float, Field(gt=0.0, le=MAX_DEADLINE_SECONDS, strict=True, allow_inf_nan=False)]
StrMap = dict[StrictStr, StrictStr]

MEMORY_PATTERN = r"^[0-9]{1,15}(Ki|Mi|Gi|Ti|k|M|G|T)?$"
_MEMORY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_MEMORY_UNITS.update({"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40})
_MEMORY = re.compile(MEMORY_PATTERN)


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


def _bounded_duration(text: str) -> str:
    """The format is a rule (BS290, with a hint); the size is structure."""
    if len(text) > DURATION_MAX_LENGTH or duration_seconds(text) > MAX_DEADLINE_SECONDS:
        raise PydanticCustomError(
            "less_than_equal", "must be at most {le}", {"le": f"{MAX_DEADLINE_SECONDS // DAY}d"}
        )
    return text


Duration = Annotated[StrictStr, AfterValidator(_bounded_duration)]


class SpecModel(BaseModel):
    """Base for every spec object: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        frozen=True,
    )
