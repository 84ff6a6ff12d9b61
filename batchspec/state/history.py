"""History: transitions, drift findings and the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from batchspec.state.base import Decode, StoreBase, decode_enum, decode_time
from batchspec.state.records import (
    AuditEntry,
    DriftEvent,
    DriftFinding,
    DriftKind,
    Transition,
)

_KINDS = {k.value: k for k in DriftKind}
_TRANSITION_COLUMNS = "id, job_id, name, event, from_state, to_state, reason, actor, at"
_DRIFT_COLUMNS = (
    "id, kind, name, job_id, backend, remote_name, detail, first_seen, last_seen, times_seen"
)
_AUDIT_COLUMNS = "id, at, actor, kind, message"
# What the history tables store that is checked on the way out (see `from_row`).
_AT: dict[str, Decode] = {"at": decode_time}
_DRIFT: dict[str, Decode] = {
    "kind": partial(decode_enum, _KINDS),
    "first_seen": decode_time,
    "last_seen": decode_time,
}


def _drift_event(
    *, id: int, first_seen: datetime, last_seen: datetime, times_seen: int, **finding: Any
) -> DriftEvent:
    return DriftEvent(id, DriftFinding(**finding), first_seen, last_seen, times_seen)


class HistoryLog(StoreBase):
    """Reading and writing the event history."""

    def _oldest_first(
        self,
        select: str,
        filters: Mapping[str, Sequence[Any]],
        *,
        order: str,
        limit: int | None,
    ) -> list[Any]:
        """Rows of `select` matching every filter (a clause and its parameters),
        taken newest first by `order` so that `limit` keeps the newest, and
        returned oldest first: every history listing reads this way."""
        sql = select
        if filters:
            sql += f" WHERE {' AND '.join(filters)}"
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = list(self._conn.execute(sql, [p for params in filters.values() for p in params]))
        rows.reverse()
        return rows

    def transitions(
        self, *, name: str | None = None, job_id: int | None = None, limit: int | None = None
    ) -> list[Transition]:
        """Events, oldest first; the newest `limit` when a limit is given."""
        filters: dict[str, Sequence[Any]] = {}
        if name is not None:
            filters["name = ?"] = (name,)
        if job_id is not None:
            filters["job_id = ?"] = (job_id,)
        select = f"SELECT {_TRANSITION_COLUMNS} FROM transitions"
        rows = self._oldest_first(select, filters, order="id DESC", limit=limit)
        return self._records(Transition, _TRANSITION_COLUMNS, rows, _AT, "transition")

    def record_drift(self, findings: Iterable[DriftFinding]) -> list[DriftEvent]:
        """Record every finding with a timestamp (a repeat updates `last_seen`)."""
        stamp = self._stamp()
        keys: list[str] = []
        with self.transaction() as conn:
            for f in findings:
                conn.execute(
                    "INSERT INTO drift(key, kind, name, job_id, backend, remote_name, detail,"
                    " first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET last_seen = excluded.last_seen,"
                    " times_seen = times_seen + 1",
                    (
                        f.key,
                        f.kind.value,
                        f.name,
                        f.job_id,
                        f.backend,
                        f.remote_name,
                        f.detail,
                        stamp,
                        stamp,
                    ),
                )
                keys.append(f.key)
        if not keys:
            return []
        events = {e.finding.key: e for e in self.drift_events(keys=keys)}
        return [events[k] for k in dict.fromkeys(keys)]

    def drift_events(
        self,
        *,
        name: str | None = None,
        keys: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[DriftEvent]:
        """Recorded drift, most recently seen last."""
        filters: dict[str, Sequence[Any]] = {}
        if name is not None:
            filters["name = ?"] = (name,)
        if keys is not None:
            filters[f"key IN ({','.join('?' * len(keys))})"] = keys
        select = f"SELECT {_DRIFT_COLUMNS} FROM drift"
        rows = self._oldest_first(select, filters, order="last_seen DESC, id DESC", limit=limit)
        return self._records(_drift_event, _DRIFT_COLUMNS, rows, _DRIFT, "drift")

    def log_audit(self, kind: str, message: str, *, actor: str) -> None:
        """Record something done to the store itself."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO audit(at, actor, kind, message) VALUES (?, ?, ?, ?)",
                (self._stamp(), actor, kind, message),
            )

    def audit_entries(self, limit: int | None = None) -> list[AuditEntry]:
        """Audit log, oldest first."""
        select = f"SELECT {_AUDIT_COLUMNS} FROM audit"
        rows = self._oldest_first(select, {}, order="id DESC", limit=limit)
        return self._records(AuditEntry, _AUDIT_COLUMNS, rows, _AT, "audit entry")
