"""Uploaded models in state: the exactly-once protocol of `models.upload`.

Each public write is one transaction, in the order the protocol allows:

1. `record_model_intent` before the upload call (the revision, where it
   goes, its alias);
2. `record_model_operation` once the long-running operation's name is known;
3. `record_model_uploaded` when the version exists (uploaded, or found and
   adopted), `record_model_failed` when the operation failed.

A process killed anywhere leaves a record in `intent` or `uploading`; the
next run finds the version by its alias, or waits for the recorded (or any
unfinished) operation of the model and then looks again, before it uploads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any

from batchspec.errors import StateError
from batchspec.model.jobs import CompiledModel
from batchspec.model.revision import Revisioned
from batchspec.state.base import Decode, StoreBase, decode_enum, decode_time, source_text
from batchspec.state.redact import marked_keys, redact


class ModelPhase(StrEnum):
    """Where an upload is in batchspec's protocol (see the module docstring)."""

    INTENT = "intent"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    FAILED = "failed"


class ModelDisposition(StrEnum):
    """CURRENT: the upload that stands for a declared Model document (one per
    name). SUPERSEDED: an older revision, or an upload whose version was
    deleted and uploaded again. FORGOTTEN: the document was removed; the
    model itself is never deleted by batchspec."""

    CURRENT = "current"
    SUPERSEDED = "superseded"
    FORGOTTEN = "forgotten"


@dataclass(frozen=True)
class ModelRecord(Revisioned):
    """One upload of one revision of a Model document."""

    id: int
    name: str
    fingerprint: str
    location: str
    model_id: str
    alias: str
    phase: ModelPhase
    disposition: ModelDisposition
    operation: str | None
    resource: str | None
    source: str | None
    error: str | None
    missing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    uploaded_at: datetime | None

    @property
    def version(self) -> str:
        """The revision's name by alias: `projects/P/locations/L/models/ID@ALIAS`."""
        return f"{self.location}/models/{self.model_id}@{self.alias}"

    @property
    def in_doubt(self) -> bool:
        """True when a run stopped between deciding to upload and the result."""
        return self.phase in (ModelPhase.INTENT, ModelPhase.UPLOADING)


@dataclass(frozen=True)
class ModelEvent:
    """One event of one upload."""

    model_id: int
    name: str
    event: str
    detail: str | None
    actor: str
    at: datetime


_COLUMNS = (
    "id, name, fingerprint, location, model_id, alias, phase, disposition, operation,"
    " resource, source, error, missing_since, created_at, updated_at, uploaded_at"
)


_EVENT_COLUMNS = "model_id, name, event, detail, actor, at"
_AT: dict[str, Decode] = {"at": decode_time}
_DECODE: dict[str, Decode] = {
    "phase": partial(decode_enum, {p.value: p for p in ModelPhase}),
    "disposition": partial(decode_enum, {d.value: d for d in ModelDisposition}),
    **dict.fromkeys(("missing_since", "created_at", "updated_at", "uploaded_at"), decode_time),
}


class ModelStore(StoreBase):
    """Reads and transactional writes of model uploads."""

    # --- reads ------------------------------------------------------------------

    def _models(self, where: str = "", params: Sequence[Any] = ()) -> list[ModelRecord]:
        sql = f"SELECT {_COLUMNS} FROM models {where} ORDER BY id"
        rows = self._conn.execute(sql, params)
        return self._records(ModelRecord, _COLUMNS, rows, _DECODE, "model upload")

    def model(self, record_id: int) -> ModelRecord:
        """The upload with this id (StateError when there is none)."""
        rows = self._models("WHERE id = ?", (record_id,))
        if not rows:
            raise StateError(f"no model upload with id {record_id} in state")
        return rows[0]

    def current_models(self) -> dict[str, ModelRecord]:
        """The current upload of every declared Model document, by name."""
        return {r.name: r for r in self._models("WHERE disposition = 'current'")}

    def model_records(self, name: str | None = None) -> list[ModelRecord]:
        """Every upload (of one name), oldest first."""
        if name is None:
            return self._models()
        return self._models("WHERE name = ?", (name,))

    def model_events(self, name: str | None = None) -> list[ModelEvent]:
        """Every event (of one name), oldest first."""
        sql = f"SELECT {_EVENT_COLUMNS} FROM model_events"
        params: tuple[Any, ...] = ()
        if name is not None:
            sql, params = sql + " WHERE name = ?", (name,)
        rows = self._conn.execute(sql + " ORDER BY id", params)
        return self._records(ModelEvent, _EVENT_COLUMNS, rows, _AT, "event of upload")

    # --- writes -------------------------------------------------------------------

    def _event(
        self, conn: Any, record_id: int, name: str, event: str, *, detail: str | None,
        actor: str, stamp: str,
    ) -> None:  # fmt: skip
        conn.execute(
            "INSERT INTO model_events(model_id, name, event, detail, actor, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (record_id, name, event, detail, actor, stamp),
        )

    def record_model_intent(
        self, model: CompiledModel, *, actor: str, reason: str, supersede: int | None = None
    ) -> ModelRecord:
        """Record, before the upload call, that this revision is about to be
        uploaded (superseding the name's current upload, if any)."""
        stamp = self._stamp()
        spec = model.spec.model_dump(mode="json", by_alias=True)
        marked = marked_keys(spec)
        with self.transaction() as conn:
            if supersede is not None:
                self._set_model_disposition(
                    conn, supersede, ModelDisposition.SUPERSEDED, actor=actor, reason=reason,
                    stamp=stamp,
                )  # fmt: skip
            cursor = conn.execute(
                "INSERT INTO models(name, fingerprint, location, model_id, alias, phase,"
                " disposition, body, spec, source, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'intent', 'current', ?, ?, ?, ?, ?)",
                (
                    model.name,
                    model.fingerprint,
                    model.parent,
                    model.model_id,
                    model.alias,
                    json.dumps(redact(model.body, marked), sort_keys=True),
                    json.dumps(redact(spec, marked), sort_keys=True),
                    source_text(model.source),
                    stamp,
                    stamp,
                ),
            )
            record_id = int(cursor.lastrowid or 0)
            self._event(
                conn, record_id, model.name, "intent", detail=reason, actor=actor, stamp=stamp
            )
        return self.model(record_id)

    def record_model_operation(self, record_id: int, operation: str, *, actor: str) -> ModelRecord:
        """The upload call answered: its long-running operation's name."""
        sets = "phase = 'uploading', operation = ?"
        return self._update(record_id, "uploading", operation, sets, operation, actor=actor)

    def record_model_uploaded(
        self, record_id: int, resource: str, *, actor: str, adopted: bool = False
    ) -> ModelRecord:
        """The version exists: `resource` is `projects/P/locations/L/models/ID@VERSION`."""
        stamp, event = self._stamp(), "adopted" if adopted else "uploaded"
        sets = (
            "phase = 'uploaded', resource = ?, error = NULL, missing_since = NULL,"
            " uploaded_at = COALESCE(uploaded_at, ?)"
        )
        return self._update(record_id, event, resource, sets, resource, stamp, actor=actor)

    def record_model_failed(self, record_id: int, error: str, *, actor: str) -> ModelRecord:
        """The upload's operation ended with an error (or the service refused it)."""
        sets = "phase = 'failed', error = ?"
        return self._update(record_id, "failed", error, sets, error, actor=actor)

    def record_model_missing(self, record_id: int, detail: str, *, actor: str) -> ModelRecord:
        """The uploaded version is gone (deleted outside batchspec)."""
        sets = "missing_since = COALESCE(missing_since, ?)"
        return self._update(record_id, "missing", detail, sets, self._stamp(), actor=actor)

    def forget_model(self, record_id: int, *, actor: str, reason: str) -> ModelRecord:
        """Stop tracking an upload (its document was removed); the model stays."""
        stamp = self._stamp()
        with self.transaction() as conn:
            self._set_model_disposition(
                conn, record_id, ModelDisposition.FORGOTTEN, actor=actor, reason=reason,
                stamp=stamp,
            )  # fmt: skip
        return self.model(record_id)

    def _update(
        self,
        record_id: int,
        event: str,
        detail: str | None,
        assignments: str,
        *params: Any,
        actor: str,
    ) -> ModelRecord:
        """Set `assignments` (their `?` taking `params`) on one upload and record
        `event` with `detail`, in one transaction."""
        stamp = self._stamp()
        with self.transaction() as conn:
            before = self.model(record_id)
            conn.execute(
                f"UPDATE models SET {assignments}, updated_at = ? WHERE id = ?",
                (*params, stamp, record_id),
            )
            self._event(
                conn, record_id, before.name, event, detail=detail, actor=actor, stamp=stamp
            )
        return self.model(record_id)

    def _set_model_disposition(
        self,
        conn: Any,
        record_id: int,
        disposition: ModelDisposition,
        *,
        actor: str,
        reason: str,
        stamp: str,
    ) -> None:
        row = conn.execute("SELECT name FROM models WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise StateError(f"no model upload with id {record_id} in state")
        conn.execute(
            "UPDATE models SET disposition = ?, updated_at = ? WHERE id = ?",
            (disposition.value, stamp, record_id),
        )
        self._event(
            conn, record_id, row[0], disposition.value, detail=reason, actor=actor, stamp=stamp
        )


__all__ = ["ModelDisposition", "ModelEvent", "ModelPhase", "ModelRecord", "ModelStore"]
