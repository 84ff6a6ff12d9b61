"""Plan actions for `kind: Model` documents: what apply uploads, before the
jobs that run the models.

A model revision is uploaded once; what it compares is the declared
revision (its fingerprint) against the name's current upload in state:

* no upload yet, or another revision: UPLOAD (a new model, or a new
  version of it; the jobs that use it are replaced, because their request
  names the new revision's alias);
* the same revision, uploaded, but its version was seen gone (deleted
  outside batchspec): UPLOAD again, as drift;
* the same revision, left in doubt by a run that stopped, or failed last
  time: UPLOAD, which first looks for the version and waits for the model's
  unfinished operations, so it is never uploaded twice;
* otherwise NOOP.

`plan --refresh` first asks the registry about each uploaded version
(`ModelSeen`, read without recording anything): one deleted outside
batchspec is planned as drift, uploaded again before its jobs; one
relabelled outside stays NOOP, its reason saying so (labels can be patched
back; the version is the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from batchspec.model.jobs import CompiledModel
from batchspec.state.models import ModelPhase, ModelRecord


class ModelActionKind(StrEnum):
    """What apply does for one Model document."""

    UPLOAD = "upload"
    NOOP = "noop"


@dataclass(frozen=True)
class ModelSeen:
    """What the registry said of a model's uploaded version, when it differs
    from what state recorded: `deleted` outside batchspec, or else changed
    (relabelled); `detail` says which version and how."""

    deleted: bool
    detail: str


@dataclass(frozen=True)
class ModelAction:
    """One model's action."""

    kind: ModelActionKind
    name: str
    reason: str
    model: CompiledModel
    previous: ModelRecord | None = None

    @property
    def changes(self) -> bool:
        """False only for a no-op."""
        return self.kind is not ModelActionKind.NOOP

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (plans as JSON)."""
        return {
            "kind": self.kind.value,
            "name": self.name,
            "reason": self.reason,
            "fingerprint": self.model.fingerprint,
            "version": self.model.version,
            "previous": self.previous.short_fingerprint if self.previous else None,
        }


def plan_models(
    models: Mapping[str, CompiledModel],
    current: Mapping[str, ModelRecord],
    seen: Mapping[str, ModelSeen] | None = None,
) -> list[ModelAction]:
    """One action per declared model, parents first (the order of `models`);
    `seen`: what a refresh found of the uploaded versions, by name."""
    out = []
    for name, model in models.items():
        record = current.get(name)
        kind, reason = _decide(model, record, (seen or {}).get(name))
        out.append(ModelAction(kind, name, reason, model, record))
    return out


def _decide(
    model: CompiledModel, record: ModelRecord | None, seen: ModelSeen | None
) -> tuple[ModelActionKind, str]:
    up = ModelActionKind.UPLOAD
    if record is None:
        return up, f"new model {model.resource} (revision {model.short_fingerprint})"
    if record.fingerprint != model.fingerprint:
        return up, (
            f"new version: revision {record.short_fingerprint} -> {model.short_fingerprint}"
        )
    if record.in_doubt:
        return up, "a run stopped during its upload: look for the version, then upload"
    if record.phase is ModelPhase.FAILED:
        return up, f"the last upload failed: {record.error or 'unknown error'}"
    if record.missing_since is not None or (seen is not None and seen.deleted):
        return up, f"drift: {record.resource} was deleted outside batchspec; upload again"
    if seen is not None:
        return ModelActionKind.NOOP, (
            f"uploaded as {record.resource}; drift: {seen.detail} (not uploaded again:"
            " patch the label back)"
        )
    return ModelActionKind.NOOP, f"uploaded as {record.resource}"


__all__ = ["ModelAction", "ModelActionKind", "ModelSeen", "plan_models"]
