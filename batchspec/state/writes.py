"""Recording what batchspec does and sees: intents, submits, observations, cancels.

Each public method is one transaction. The order of operations they allow is
the exactly-once protocol: `record_intent` before a backend submit,
`record_submitted` after it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from batchspec.errors import StateError
from batchspec.model.enums import JobState
from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.state.base import StoreBase, source_text
from batchspec.state.connection import SharedConnection
from batchspec.state.records import Disposition, JobRecord, Phase, RunStamp, to_text
from batchspec.state.redact import marked_keys, redact


class JobWrites(StoreBase):
    """Transactional writes of job records, revisions and names."""

    def _ensure_revision(self, conn: SharedConnection, job: CompiledJob, stamp: str) -> None:
        spec = job.spec.model_dump(mode="json", by_alias=True)
        conn.execute(
            "INSERT OR IGNORE INTO revisions(fingerprint, name, target, body, spec, policy,"
            " source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.fingerprint,
                job.name,
                job.target.value,
                json.dumps(redact(job.body, marked_keys(spec)), sort_keys=True),
                json.dumps(redact(spec, marked_keys(spec)), sort_keys=True),
                json.dumps(spec["spec"]["policy"], sort_keys=True),
                source_text(job.source),
                stamp,
            ),
        )

    def _use_name(
        self, conn: SharedConnection, kind: str, name: str, stamp: str, backend: str = ""
    ) -> None:
        conn.execute(
            "INSERT INTO names(kind, backend, name, first_used_at, last_used_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(kind, backend, name) DO UPDATE SET last_used_at = excluded.last_used_at",
            (kind, backend, name, stamp, stamp),
        )

    def _set_columns(
        self, conn: SharedConnection, job_id: int, values: dict[str, Any], stamp: str
    ) -> None:
        assignments = ", ".join(f"{column} = ?" for column in values)  # names from code
        conn.execute(
            f"UPDATE jobs SET {assignments}, updated_at = ? WHERE id = ?",
            (*values.values(), stamp, job_id),
        )

    def _change(
        self,
        conn: SharedConnection,
        record: JobRecord,
        values: dict[str, Any],
        event: str,
        *,
        actor: str,
        stamp: str,
        from_state: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Set some of a job's columns and record the event that explains them, in
        the caller's transaction: a change never lands without its history row.
        A new `state` in `values` is the transition's `to_state`."""
        self._set_columns(conn, record.id, values, stamp)
        self._transition(
            conn,
            record.id,
            record.name,
            event,
            actor=actor,
            stamp=stamp,
            from_state=from_state,
            to_state=values.get("state"),
            reason=reason,
        )

    def record_intent(
        self,
        job: CompiledJob,
        *,
        submit_key: str,
        attempt: int,
        retry: int = 0,
        backend: str | None = None,
        supersede: int | None = None,
        actor: str,
        reason: str,
        run: RunStamp | None = None,
    ) -> JobRecord:
        """Record, before calling the backend, that this job is about to be submitted.

        One transaction: the revision, the spec name, the superseded previous
        job (if any) and the new job in phase INTENT. If the process dies right
        after, the next run finds the intent and looks the job up by
        `submit_key` before submitting again.
        """
        stamp = self._stamp()
        backend_name = backend or job.target.value
        with self.transaction() as conn:
            self._ensure_revision(conn, job, stamp)
            self._use_name(conn, "spec", job.name, stamp)
            if supersede is not None:
                self._set_disposition(
                    conn, supersede, Disposition.SUPERSEDED, actor=actor, reason=reason, stamp=stamp
                )
            existing = conn.execute(
                "SELECT id FROM jobs WHERE name = ? AND disposition = 'current'", (job.name,)
            ).fetchone()
            if existing is not None:
                raise StateError(
                    f"job {job.name!r} already has a current record (#{existing[0]});"
                    " refusing to record a second one"
                )
            try:
                cursor = conn.execute(
                    "INSERT INTO jobs(name, fingerprint, submit_key, attempt, retry, target,"
                    " backend, phase, disposition, source, created_at, updated_at,"
                    " run_key, scheduled_at, inputs_digest)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'intent', 'current', ?, ?, ?, ?, ?, ?)",
                    (
                        job.name,
                        job.fingerprint,
                        submit_key,
                        attempt,
                        retry,
                        job.target.value,
                        backend_name,
                        source_text(job.source),
                        stamp,
                        stamp,
                        run.key if run else None,
                        to_text(run.at) if run else None,
                        run.inputs_digest if run else None,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise StateError(
                    f"submit key {submit_key[:12]} of {job.name!r} is already recorded: {exc}"
                ) from exc
            job_id = int(cursor.lastrowid or 0)
            self._transition(
                conn, job_id, job.name, "intent", actor=actor, stamp=stamp, reason=reason
            )
        return self.job(job_id)

    def record_submitted(
        self, job_id: int, remote: RemoteJob, *, actor: str, adopted: bool = False
    ) -> JobRecord:
        """The backend confirmed the job: store its remote name and first state."""
        stamp = self._stamp()
        with self.transaction() as conn:
            current = self.job(job_id)
            if current.phase is Phase.SUBMITTED and current.remote_name == remote.remote_name:
                return current
            owner = self.job_by_remote(current.backend, remote.remote_name)
            if owner is not None and owner.id != job_id:
                raise StateError(
                    f"remote job {remote.remote_name} is already recorded for job"
                    f" #{owner.id} ({owner.name}); refusing to record it for #{job_id}",
                    hint="two records claim one remote job: inspect with `batchspec history`",
                )
            values = {
                "phase": "submitted",
                "remote_name": remote.remote_name,
                "submitted_at": to_text(remote.create_time) or stamp,
            }
            event = "adopted" if adopted else "submitted"
            reason = f"remote job {remote.remote_name}"
            self._change(conn, current, values, event, actor=actor, stamp=stamp, reason=reason)
            self._use_name(conn, "remote", remote.remote_name, stamp, backend=current.backend)
            self._apply_observation(conn, self.job(job_id), remote, actor=actor, stamp=stamp)
        return self.job(job_id)

    def record_observed(self, job_id: int, remote: RemoteJob, *, actor: str) -> JobRecord | None:
        """Store what the backend reports; returns the new record when anything changed."""
        stamp = self._stamp()
        with self.transaction() as conn:
            changed = self._apply_observation(
                conn, self.job(job_id), remote, actor=actor, stamp=stamp
            )
        return self.job(job_id) if changed else None

    def record_observations(
        self, pairs: Iterable[tuple[JobRecord, RemoteJob]], *, actor: str
    ) -> list[tuple[JobRecord, JobRecord]]:
        """Many observations in one transaction; returns (before, after) for changed jobs."""
        stamp = self._stamp()
        changed: list[tuple[JobRecord, JobRecord]] = []
        with self.transaction() as conn:
            for record, remote in pairs:
                values, before = self._observed(record, remote)
                if values == before:
                    continue  # unchanged since the snapshot: no need to re-read the row
                # Re-read inside the transaction: another writer may have moved it since.
                fresh = self.job(record.id)
                if self._apply_observation(conn, fresh, remote, actor=actor, stamp=stamp):
                    changed.append((fresh, self.job(record.id)))
        return changed

    def _apply_observation(
        self,
        conn: SharedConnection,
        record: JobRecord,
        remote: RemoteJob,
        *,
        actor: str,
        stamp: str,
    ) -> bool:
        values, before = self._observed(record, remote)
        if values == before:
            return False
        self._set_columns(conn, record.id, values, stamp)
        if before["state"] != values["state"]:
            self._transition(
                conn,
                record.id,
                record.name,
                "state",
                actor=actor,
                stamp=stamp,
                from_state=before["state"],
                to_state=values["state"],
                reason=remote.error,
            )
        if record.missing_since is not None:
            self._transition(
                conn,
                record.id,
                record.name,
                "reappeared",
                actor=actor,
                stamp=stamp,
                reason="the backend lists the job again",
            )
        return True

    def _observed(
        self, record: JobRecord, remote: RemoteJob
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(new column values, recorded values) for an observation of `record`."""
        state = remote.state
        started = record.started_at or remote.start_time
        if started is None and state is JobState.RUNNING:
            started = self.now()
        ended = record.ended_at
        if state.terminal:
            ended = remote.end_time or record.ended_at or self.now()
        values: dict[str, Any] = {
            "state": state.value,
            "started_at": to_text(started),
            "ended_at": to_text(ended) if state.terminal else None,
            "completed_count": remote.completed_count,
            "failed_count": remote.failed_count,
            "total_count": remote.total_count,
            "output_location": remote.output_location or record.output_location,
            "error": remote.error,
            "missing_since": None,
        }
        before: dict[str, Any] = {
            "state": record.state.value if record.state else None,
            "started_at": to_text(record.started_at),
            "ended_at": to_text(record.ended_at),
            "completed_count": record.completed_count,
            "failed_count": record.failed_count,
            "total_count": record.total_count,
            "output_location": record.output_location,
            "error": record.error,
            "missing_since": to_text(record.missing_since),
        }
        return values, before

    def record_rejected(self, job_id: int, *, error: str, actor: str) -> JobRecord:
        """The backend refused the submit for good: nothing was created; the attempt
        counts as FAILED (so the retry policy applies) and stays unsubmitted."""
        stamp = self._stamp()
        with self.transaction() as conn:
            values = {"state": "FAILED", "error": error, "ended_at": stamp}
            record = self.job(job_id)
            self._change(conn, record, values, "rejected", actor=actor, stamp=stamp, reason=error)
        return self.job(job_id)

    def record_missing(self, job_id: int, *, actor: str, reason: str) -> JobRecord:
        """The backend no longer knows the job (deleted outside batchspec)."""
        stamp = self._stamp()
        with self.transaction() as conn:
            record = self.job(job_id)
            if record.missing_since is None:
                values, event = {"missing_since": stamp}, "missing"
                self._change(conn, record, values, event, actor=actor, stamp=stamp, reason=reason)
        return self.job(job_id)

    def record_cancel_requested(
        self, job_id: int, *, reason: str, actor: str, remote: RemoteJob | None = None
    ) -> JobRecord:
        """batchspec asked the backend to cancel (so a CANCELLED state is not drift)."""
        stamp = self._stamp()
        with self.transaction() as conn:
            record = self.job(job_id)
            values = {"cancel_reason": reason, "cancel_requested_at": stamp}
            self._change(
                conn,
                record,
                values,
                "cancel_requested",
                actor=actor,
                stamp=stamp,
                from_state=record.state.value if record.state else None,
                reason=reason,
            )
            if remote is not None:
                self._apply_observation(conn, self.job(job_id), remote, actor=actor, stamp=stamp)
        return self.job(job_id)

    def set_disposition(
        self, job_id: int, disposition: Disposition, *, actor: str, reason: str
    ) -> JobRecord:
        """Supersede, remove or forget a job (kept in history for ever)."""
        with self.transaction() as conn:
            self._set_disposition(
                conn, job_id, disposition, actor=actor, reason=reason, stamp=self._stamp()
            )
        return self.job(job_id)

    def _set_disposition(
        self,
        conn: SharedConnection,
        job_id: int,
        disposition: Disposition,
        *,
        actor: str,
        reason: str,
        stamp: str,
    ) -> None:
        record = self.job(job_id)
        if record.disposition is disposition:
            return
        values, event = {"disposition": disposition.value}, disposition.value
        self._change(conn, record, values, event, actor=actor, stamp=stamp, reason=reason)

    def record_event(self, job_id: int, event: str, *, reason: str, actor: str) -> None:
        """An event in a job's life that changes no field (a resume request, ...)."""
        with self.transaction() as conn:
            record = self.job(job_id)
            self._transition(
                conn, job_id, record.name, event, actor=actor, stamp=self._stamp(), reason=reason
            )

    def set_manifest_sha256(self, job_id: int, sha256: str | None) -> None:
        """Remember the output manifest's digest at success (outputs drift baseline)."""
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET manifest_sha256 = ? WHERE id = ?", (sha256, job_id))
