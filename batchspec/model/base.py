"""What every spec document shares: the strict base model and bounded scalars.

Kept apart from the documents (`spec` for jobs, `modelspec` for models,
`runners` for the local engine's model runners) so each of them imports the
same base without importing the others.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from batchspec.model.limits import (
    DAY,
    DURATION_MAX_LENGTH,
    DURATION_PATTERN,
    INT32_MAX,
    INT64_MAX,
    MAX_DEADLINE_SECONDS,
    MEMORY_PATTERN,
    duration_in_bounds,
    duration_seconds,
    memory_bytes,
    span_text,
)

PositiveInt = Annotated[StrictInt, Field(ge=1, le=INT64_MAX)]
PositiveInt32 = Annotated[StrictInt, Field(ge=1, le=INT32_MAX)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=INT64_MAX)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, strict=True, allow_inf_nan=False)]
Seconds = Annotated[float, Field(gt=0.0, le=MAX_DEADLINE_SECONDS, strict=True, allow_inf_nan=False)]
StrMap = dict[StrictStr, StrictStr]


def _bounded_duration(text: str) -> str:
    """The format is a rule (BS290, with a hint); the size is structure."""
    if not duration_in_bounds(text):
        raise PydanticCustomError(
            "less_than_equal", "must be at most {le}", {"le": f"{MAX_DEADLINE_SECONDS // DAY}d"}
        )
    return text


Duration = Annotated[StrictStr, AfterValidator(_bounded_duration)]


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's annotation holds, through Annotated, unions, lists
    and mappings (the schema generator and the structure diagnostics walk
    the same tree)."""
    return [a for a in _parts(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]


def _parts(annotation: Any) -> Iterator[Any]:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        yield from _parts(get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType, list, dict):
        for arg in get_args(annotation):
            yield from _parts(arg)
    else:
        yield annotation


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


__all__ = [
    "DAY",
    "DURATION_MAX_LENGTH",
    "DURATION_PATTERN",
    "INT32_MAX",
    "INT64_MAX",
    "MAX_DEADLINE_SECONDS",
    "MEMORY_PATTERN",
    "Duration",
    "Fraction",
    "NonNegativeInt",
    "PositiveInt",
    "PositiveInt32",
    "Seconds",
    "SpecModel",
    "StrMap",
    "duration_seconds",
    "memory_bytes",
    "models_in",
    "span_text",
]
