"""Structure without pydantic, for a document that needs nothing else.

Most documents `batchspec validate` reads are valid. For those, building the
pydantic models (and importing pydantic) is most of the command's start-up,
while the rules only read values. So a document is first read as a view
(`batchspec.model.view`), which checks it against the structure schema (the
published schema, generated from the models, without the rules' extras) and
holds the models' names, defaults and types.

Anything else goes to pydantic (`batchspec.validate.structure`), which words
every structure diagnostic: a document the schema refuses, one a view cannot
vouch for, a kind or apiVersion this batchspec does not read. The fast lane
never decides that a document is wrong, only that it is right, and only when
the caller keeps no typed specs (`validate`'s diagnostics-only run):
`plan`, `apply` and the rest still get pydantic models.
"""

from __future__ import annotations

from typing import Any, Final

from batchspec.model.view import UnsureError, view

# The structure schema's model for each document kind (`batchspec.model.documents.KINDS`).
KIND_MODELS: Final = {"BatchPredictionJob": "BatchPredictionJobSpec", "Model": "ModelDocument"}


def fast_view(data: Any) -> Any | None:
    """A view of `data` when it is surely valid structure, else None (ask pydantic)."""
    kind = data.get("kind") if type(data) is dict else None
    model = KIND_MODELS.get(kind) if type(kind) is str else None
    if model is None:
        return None
    try:
        return view(model, data)
    except UnsureError:
        return None


__all__ = ["KIND_MODELS", "fast_view"]
