"""What the spec models compute from their fields, apart from the models.

The rules (and everything else) call a few methods and properties on spec
objects. They live here, in plain mixins that only *read* attributes, so
they run the same on the pydantic models and on any object offering the
same attributes: `batchspec validate`'s fast lane checks structure against
the published schema and runs the rules over light objects, without
importing pydantic (whose import alone costs more than `validate` may take
to start). The pydantic models inherit these mixins, so there is one
definition of each behaviour.

Which model uses which mixin (`BEHAVIOURS`, by the model's class name as in
the JSON Schema's `$defs`):

* `ModelRef` (spec): `ModelRefBehaviour` -- `ways()`
* `Policy` (spec): `PolicyBehaviour` -- `deadline_seconds`
* `Schedule` (spec): `ScheduleBehaviour` -- `starting_deadline_seconds`
* `JobSpec` (spec): `JobSpecBehaviour` -- `recurring`
* `BatchPredictionJobSpec` (spec): `BatchPredictionJobSpecBehaviour` -- `name`
* `ModelContainer` (modelspec): `ModelContainerBehaviour` -- `port`
* `ModelDocument` (modelspec): `ModelDocumentBehaviour` -- `name`

Each method states the attributes it reads with a Protocol on `self`, so
mypy checks every class that mixes one in offers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from batchspec.model.limits import DEFAULT_PORT, duration_seconds

_MODEL_WAYS = ("name", "uri", "resource", "publisher", "local", "ref")


if TYPE_CHECKING:  # annotations only: a Protocol class costs import time

    class _HasDeadline(Protocol):
        @property
        def deadline(self) -> str | None: ...

    class _HasStartingDeadline(Protocol):
        @property
        def starting_deadline(self) -> str | None: ...

    class _Recurs(Protocol):
        @property
        def schedule(self) -> object | None: ...

        @property
        def trigger(self) -> str | None: ...

    class _Named(Protocol):
        @property
        def name(self) -> str: ...

    class _HasMetadata(Protocol):
        @property
        def metadata(self) -> _Named: ...

    class _HasPorts(Protocol):
        @property
        def ports(self) -> Sequence[int] | None: ...


class ModelRefBehaviour:
    """`ModelRef`: which of its keys name the model."""

    __slots__ = ()

    def ways(self) -> list[str]:
        """The keys used to name the model (a valid spec has exactly one)."""
        return [k for k in _MODEL_WAYS if getattr(self, k) is not None]


class PolicyBehaviour:
    """`Policy`: its deadline in seconds."""

    __slots__ = ()

    @property
    def deadline_seconds(self: _HasDeadline) -> int | None:
        """The deadline in seconds, or None when there is none."""
        return duration_seconds(self.deadline) if self.deadline else None


class ScheduleBehaviour:
    """`Schedule`: its starting deadline in seconds."""

    __slots__ = ()

    @property
    def starting_deadline_seconds(self: _HasStartingDeadline) -> int | None:
        """The starting deadline in seconds, or None when there is none."""
        return duration_seconds(self.starting_deadline) if self.starting_deadline else None


class JobSpecBehaviour:
    """`JobSpec`: whether it describes many runs."""

    __slots__ = ()

    @property
    def recurring(self: _Recurs) -> bool:
        """True when the spec describes many runs rather than one job."""
        return self.schedule is not None or self.trigger is not None


class BatchPredictionJobSpecBehaviour:
    """`BatchPredictionJobSpec`: the job's name."""

    __slots__ = ()

    @property
    def name(self: _HasMetadata) -> str:
        """The job name."""
        return self.metadata.name


class ModelContainerBehaviour:
    """`ModelContainer`: the port the service talks to."""

    __slots__ = ()

    @property
    def port(self: _HasPorts) -> int:
        """The port the service talks to (the first one listed)."""
        return self.ports[0] if self.ports else DEFAULT_PORT


class ModelDocumentBehaviour:
    """`ModelDocument`: the model's name."""

    __slots__ = ()

    @property
    def name(self: _HasMetadata) -> str:
        """The model's name in the specs."""
        return self.metadata.name


BEHAVIOURS: dict[str, type] = {
    "ModelRef": ModelRefBehaviour,
    "Policy": PolicyBehaviour,
    "Schedule": ScheduleBehaviour,
    "JobSpec": JobSpecBehaviour,
    "BatchPredictionJobSpec": BatchPredictionJobSpecBehaviour,
    "ModelContainer": ModelContainerBehaviour,
    "ModelDocument": ModelDocumentBehaviour,
}
"""The mixin of each model that has one, by the model's class name."""


__all__ = [
    "BEHAVIOURS",
    "BatchPredictionJobSpecBehaviour",
    "JobSpecBehaviour",
    "ModelContainerBehaviour",
    "ModelDocumentBehaviour",
    "ModelRefBehaviour",
    "PolicyBehaviour",
    "ScheduleBehaviour",
]
