"""History: transitions, drift findings and the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from batchspec.state.base import StoreBase, decode_enum, decode_time
from batchspec.state.records import (
    AuditEntry,
    DriftEvent,
    DriftFinding,
    DriftKind,
    Transition,
)

_KINDS = {k.value: k for k in DriftKind}


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
        rows = self._oldest_first(
            "SELECT id, job_id, name, event, from_state, to_state, reason, actor, at"
            " FROM transitions",
            filters,
            order="id DESC",
            limit=limit,
        )
        return [
            Transition(
                id=r[0],
                job_id=r[1],
                name=r[2],
                event=r[3],
                from_state=r[4],
                to_state=r[5],
                reason=r[6],
                actor=r[7],
                at=decode_time(r[8], f"transition #{r[0]} time", self.path),  # type: ignore[arg-type]
            )
            for r in rows
        ]

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
        rows = self._oldest_first(
            "SELECT id, kind, name, job_id, backend, remote_name, detail, first_seen, last_seen,"
            " times_seen FROM drift",
            filters,
            order="last_seen DESC, id DESC",
            limit=limit,
        )
        return [
            DriftEvent(
                id=r[0],
                finding=DriftFinding(
                    kind=decode_enum(_KINDS, r[1], f"drift finding #{r[0]} kind", self.path),
                    name=r[2],
                    job_id=r[3],
                    backend=r[4],
                    remote_name=r[5],
                    detail=r[6],
                ),
                first_seen=decode_time(r[7], f"drift #{r[0]} first_seen", self.path),  # type: ignore[arg-type]
                last_seen=decode_time(r[8], f"drift #{r[0]} last_seen", self.path),  # type: ignore[arg-type]
                times_seen=r[9],
            )
            for r in rows
        ]

    def log_audit(self, kind: str, message: str, *, actor: str) -> None:
        """Record something done to the store itself."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO audit(at, actor, kind, message) VALUES (?, ?, ?, ?)",
                (self._stamp(), actor, kind, message),
            )

    def audit_entries(self, limit: int | None = None) -> list[AuditEntry]:
        """Audit log, oldest first."""
        rows = self._oldest_first(
            "SELECT id, at, actor, kind, message FROM audit", {}, order="id DESC", limit=limit
        )
        return [
            AuditEntry(
                id=r[0],
                at=decode_time(r[1], f"audit entry #{r[0]} time", self.path),  # type: ignore[arg-type]
                actor=r[2],
                kind=r[3],
                message=r[4],
            )
            for r in rows
        ]
