"""A valid document and where it came from: what `validate` hands the
stages after it (`compile`, `plan`, `apply`, ...).

Apart from `batchspec.validate.validator`, which is compiled
(`batchspec._native`): a NamedTuple's annotations are read when its class
is made, and these name the pydantic models, which the validator imports
only for type checking (start-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from batchspec.diagnostics import Diagnostic

if TYPE_CHECKING:  # pydantic, imported only where a document needs it (start-up)
    from batchspec.model.modelspec import ModelDocument
    from batchspec.model.spec import BatchPredictionJobSpec


class LoadedSpec(NamedTuple):
    """A valid spec and where it came from."""

    spec: BatchPredictionJobSpec
    file: Path
    document: int
    rules: tuple[Diagnostic, ...] | None = None  # the rules' findings (warnings): not asked twice

    @property
    def name(self) -> str:
        """The job name."""
        return self.spec.metadata.name


class LoadedModel(NamedTuple):
    """A valid Model document and where it came from."""

    spec: ModelDocument
    file: Path
    document: int
    rules: tuple[Diagnostic, ...] | None = None

    @property
    def name(self) -> str:
        """The model's name in the specs."""
        return self.spec.metadata.name


Loaded = LoadedSpec | LoadedModel


__all__ = ["Loaded", "LoadedModel", "LoadedSpec"]
