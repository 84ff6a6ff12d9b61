"""Model uploads in state: the exactly-once protocol's records and events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from batchspec.compile import compile_paths
from batchspec.errors import StateError
from batchspec.model.jobs import CompiledModel
from batchspec.state import StateStore
from batchspec.state.models import ModelDisposition, ModelPhase
from batchspec.testing.specs import model_doc
from tests.validate.helpers import dump


def compiled_model(tmp_path: Path, **changes: object) -> CompiledModel:
    path = tmp_path / "m.yaml"
    path.write_text(dump(model_doc("reviews", **changes)))
    (model,) = compile_paths([str(path)]).models
    return model


@pytest.fixture
def store(tmp_path: Path):
    s = StateStore.open(tmp_path / "state.db")
    yield s
    s.close()


def test_intent_then_operation_then_uploaded(store: StateStore, tmp_path: Path) -> None:
    model = compiled_model(tmp_path)
    rec = store.record_model_intent(model, actor="t", reason="new")
    assert rec.phase is ModelPhase.INTENT and rec.in_doubt
    assert rec.version == model.version
    before = store.state_hash()
    rec = store.record_model_operation(rec.id, f"{model.resource}/operations/1", actor="t")
    assert rec.phase is ModelPhase.UPLOADING and rec.in_doubt
    assert store.state_hash() != before  # a saved plan made before this is refused
    rec = store.record_model_uploaded(rec.id, f"{model.resource}@1", actor="t")
    assert rec.phase is ModelPhase.UPLOADED and not rec.in_doubt
    assert rec.resource == f"{model.resource}@1" and rec.uploaded_at is not None
    assert store.current_models() == {"reviews": rec}
    events = [e.event for e in store.model_events("reviews")]
    assert events == ["intent", "uploading", "uploaded"]


def test_a_new_revision_supersedes_the_current_one(store: StateStore, tmp_path: Path) -> None:
    old = store.record_model_intent(compiled_model(tmp_path), actor="t", reason="new")
    newer = compiled_model(tmp_path, artifactUri="gs://bucket/models/v2/")
    rec = store.record_model_intent(newer, actor="t", reason="changed", supersede=old.id)
    assert store.current_models()["reviews"].id == rec.id
    assert store.model(old.id).disposition is ModelDisposition.SUPERSEDED


def test_one_current_upload_per_name(store: StateStore, tmp_path: Path) -> None:
    model = compiled_model(tmp_path)
    store.record_model_intent(model, actor="t", reason="new")
    with pytest.raises(sqlite3.IntegrityError):  # the unique index, inside the transaction
        store.record_model_intent(model, actor="t", reason="again")
    assert len(store.model_records("reviews")) == 1


def test_missing_failed_forgotten(store: StateStore, tmp_path: Path) -> None:
    rec = store.record_model_intent(compiled_model(tmp_path), actor="t", reason="new")
    failed = store.record_model_failed(rec.id, "image not found", actor="t")
    assert failed.phase is ModelPhase.FAILED and failed.error == "image not found"
    missing = store.record_model_missing(rec.id, "deleted outside", actor="t")
    assert missing.missing_since is not None
    gone = store.forget_model(rec.id, actor="t", reason="document removed")
    assert gone.disposition is ModelDisposition.FORGOTTEN
    assert store.current_models() == {}
    with pytest.raises(StateError):
        store.model(999)
