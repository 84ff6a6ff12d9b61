"""Uploading `kind: Model` revisions exactly once, before the jobs that run them.

The protocol (state in `batchspec.state.models`):

1. record the intent (a new record superseding the name's current upload,
   or the same record again when it is this revision, left in doubt or
   failed);
2. look for the version by the revision's alias; when a run stopped during
   an upload, first wait for the recorded operation and for every
   unfinished operation of the model (a lost answer leaves no trace but
   that operation), then look again: found means adopted, not uploaded;
3. upload (`modelId` for a new model, `parentModel` once it exists), record
   the operation, wait for it, record the version.

A kill -9 anywhere leaves the record in doubt; the next apply resolves it by
steps 2 and 3, so there is one version per revision. `observe_models`
finds uploaded versions deleted outside batchspec (drift): the plan then
uploads them again before their jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from batchspec.compile.fingerprint import fingerprint_label
from batchspec.errors import AmbiguousSubmitError, BatchspecError
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledModel
from batchspec.plan.models import ModelAction, ModelSeen
from batchspec.state.models import ModelPhase, ModelRecord
from batchspec.state.records import DriftFinding, DriftKind
from batchspec.state.store import StateStore


class ModelUploads(Protocol):
    """A model registry apply uploads through (`VertexModels`)."""

    def find(self, version: str) -> str | None:
        """The version's `...models/ID@VERSION_ID`, or None."""
        ...

    def exists(self, model: str) -> bool:
        """Whether the model exists."""
        ...

    def labels(self, version: str) -> dict[str, str] | None:
        """The version's labels, or None when there is no such version."""
        ...

    def pending(self, model: str) -> list[str]:
        """The model's unfinished operations."""
        ...

    def upload(self, model: CompiledModel, *, as_version: bool) -> str:
        """The upload's operation name."""
        ...

    def wait(self, operation: str) -> None:
        """Until the operation is done (raises when it failed)."""
        ...


@runtime_checkable
class HasModels(Protocol):
    """A backend that also holds a model registry (Vertex AI)."""

    def models(self) -> ModelUploads:
        """Its model registry."""
        ...


def model_registry(provider: Callable[[str], object]) -> ModelUploads | None:
    """The Vertex AI backend's model registry, or None when it has none."""
    try:
        backend = provider("vertex")
    except BatchspecError:
        return None
    return backend.models() if isinstance(backend, HasModels) else None


@dataclass(frozen=True)
class ModelOutcome:
    """What happened to one model action."""

    name: str
    ok: bool
    message: str
    record: ModelRecord | None = None


def models_seen(
    current: Mapping[str, ModelRecord], api: ModelUploads, names: Iterable[str]
) -> dict[str, ModelSeen]:
    """What the registry says of each named model's uploaded version, where it
    differs from `current` (state's records): deleted outside batchspec, or
    relabelled so it no longer carries its revision's fingerprint. Reads
    only: `plan --refresh` shows it, `observe_models` records it."""
    seen: dict[str, ModelSeen] = {}
    for name in names:
        record = current.get(name)
        if record is None or record.phase is not ModelPhase.UPLOADED:
            continue
        labels = api.labels(record.version)
        if labels is None:
            detail = f"model version {record.resource} was deleted outside batchspec"
            seen[name] = ModelSeen(True, detail)
        elif labels.get(LABEL_FINGERPRINT) != fingerprint_label(record.fingerprint):
            detail = (
                f"model version {record.resource} no longer carries its revision's"
                f" {LABEL_FINGERPRINT} label (changed outside batchspec)"
            )
            seen[name] = ModelSeen(False, detail)
    return seen


def refresh_models(
    store: StateStore, provider: Callable[[str], object], names: Iterable[str]
) -> tuple[dict[str, ModelSeen], str | None]:
    """`models_seen` through the Vertex AI backend's registry, for a plan;
    nothing when there is none, and why when the registry cannot be asked."""
    api = model_registry(provider)
    if api is None:
        return {}, None
    try:
        return models_seen(store.current_models(), api, names), None
    except BatchspecError as exc:
        return {}, exc.message + (f" (hint: {exc.hint})" if exc.hint else "")


def observe_models(
    store: StateStore, api: ModelUploads, names: Iterable[str], *, actor: str
) -> list[DriftFinding]:
    """Drift of the uploaded versions (`models_seen`): deleted outside
    batchspec (recorded as missing: the plan uploads them again) or
    relabelled (reported, not undone: a version's labels can be patched,
    its model cannot)."""
    current = store.current_models()
    found: list[DriftFinding] = []
    for name, seen in models_seen(current, api, names).items():
        record = current[name]
        if seen.deleted and record.missing_since is None:
            store.record_model_missing(record.id, seen.detail, actor=actor)
            found.append(_finding(DriftKind.DELETED_OUTSIDE, seen.detail, record))
        elif not seen.deleted:
            found.append(_finding(DriftKind.CHANGED_OUTSIDE, seen.detail, record))
    if found:
        store.record_drift(found)
    return found


def _finding(kind: DriftKind, detail: str, record: ModelRecord) -> DriftFinding:
    return DriftFinding(
        kind, detail, name=record.name, backend="vertex", remote_name=record.resource
    )


def upload_models(
    store: StateStore,
    api: ModelUploads,
    actions: Iterable[ModelAction],
    *,
    actor: str,
    log: Callable[[str], None] | None = None,
) -> list[ModelOutcome]:
    """Carry out the upload actions in order (parents first); a model whose
    parent failed is not uploaded."""
    out: list[ModelOutcome] = []
    failed: set[str] = set()
    for action in actions:
        if not action.changes:
            continue
        blocked = [r for r in action.model.requires if r in failed]
        if blocked:
            failed.add(action.name)
            out.append(ModelOutcome(action.name, False, f"its parent {blocked[0]} failed"))
            continue
        outcome = _carry_out(store, api, action, actor=actor)
        if not outcome.ok:
            failed.add(action.name)
        if log is not None:
            log(f"model {action.name}: {outcome.message}")
        out.append(outcome)
    return out


def _carry_out(
    store: StateStore, api: ModelUploads, action: ModelAction, *, actor: str
) -> ModelOutcome:
    model, prev = action.model, action.previous
    if prev is not None and prev.fingerprint == model.fingerprint and prev.phase in _RESUMED:
        record = prev
    else:
        supersede = prev.id if prev is not None else None
        record = store.record_model_intent(
            model, actor=actor, reason=action.reason, supersede=supersede
        )
    try:
        record = _upload(store, api, model, record, actor=actor)
    except AmbiguousSubmitError as exc:
        return ModelOutcome(model.name, False, f"in doubt ({exc}); apply again", record)
    except BatchspecError as exc:
        record = store.record_model_failed(record.id, str(exc), actor=actor)
        return ModelOutcome(model.name, False, f"upload failed: {exc}", record)
    verb = "adopted" if record.operation is None else "uploaded"
    return ModelOutcome(model.name, True, f"{verb} {record.resource}", record)


_RESUMED = (ModelPhase.INTENT, ModelPhase.UPLOADING, ModelPhase.FAILED)


def _upload(
    store: StateStore, api: ModelUploads, model: CompiledModel, record: ModelRecord, *, actor: str
) -> ModelRecord:
    found = api.find(model.version)
    if found is None and record.in_doubt:
        _wait_for_earlier(api, model, record)
        found = api.find(model.version)
    if found is not None:
        return store.record_model_uploaded(record.id, found, actor=actor, adopted=True)
    as_version = "modelId" in model.body and api.exists(model.resource)
    operation = api.upload(model, as_version=as_version)
    store.record_model_operation(record.id, operation, actor=actor)
    api.wait(operation)
    found = api.find(model.version)
    if found is None:
        from batchspec.errors import PermanentBackendError

        raise PermanentBackendError(
            f"the upload of {model.name} ended, but no version has alias {model.alias}"
        )
    return store.record_model_uploaded(record.id, found, actor=actor)


def _wait_for_earlier(api: ModelUploads, model: CompiledModel, record: ModelRecord) -> None:
    """Wait for the uploads an interrupted run may have started."""
    operations = [record.operation] if record.operation else []
    operations += [op for op in api.pending(model.resource) if op not in operations]
    for operation in operations:
        try:
            api.wait(operation)
        except BatchspecError:
            continue  # a failed earlier upload made no version: upload below


__all__ = [
    "HasModels",
    "ModelOutcome",
    "ModelUploads",
    "model_registry",
    "observe_models",
    "upload_models",
]
