"""The kinds of spec document, one language: jobs and models.

A file may hold documents of both kinds; `kind` says which model checks a
document, and the published JSON Schema is a `oneOf` over the kinds.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, RootModel

from batchspec.model.modelspec import MODEL_KIND, ModelDocument
from batchspec.model.spec import KIND, BatchPredictionJobSpec

SpecDocument = BatchPredictionJobSpec | ModelDocument

KINDS: dict[str, type[BatchPredictionJobSpec] | type[ModelDocument]] = {
    KIND: BatchPredictionJobSpec,
    MODEL_KIND: ModelDocument,
}


class AnyDocument(RootModel[Annotated[SpecDocument, Field(discriminator="kind")]]):
    """One spec document of any kind (the JSON Schema's root)."""


__all__ = ["KINDS", "MODEL_KIND", "AnyDocument", "SpecDocument"]
