"""Recurring specs in state: schedules, decided ticks, and their runs.

A tick is decided once: it ran (its job rows carry its run key), was missed
(past startingDeadline, or beyond catchUp after an outage) or skipped
(concurrency Forbid or Replace, unchanged inputs). The decision and the
schedule's cursor move in the same transaction as the run's submit intent,
so a process killed at any point leaves either an undecided tick (decided
again, the same way, by the next pass) or an intent that the next pass
adopts by its key: a tick never runs twice and is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchspec.model.jobs import CompiledJob
from batchspec.state.connection import SharedConnection
from batchspec.state.records import (
    JobRecord,
    RunOutcome,
    RunRecord,
    RunStamp,
    from_text,
    to_text,
)
from batchspec.state.writes import JobWrites

MAX_RECORDED_TICKS = 500
"""Missed ticks recorded one by one per decision; older ones become one row's count."""


@dataclass(frozen=True)
class TickDecision:
    """A tick that did not run, and why."""

    key: str
    at: datetime
    outcome: RunOutcome
    reason: str
    inputs_digest: str | None = None


_RUN_COLUMNS = (
    "id, name, run_key, scheduled_at, outcome, reason, fingerprint, inputs_digest, decided_at"
)


class RunWrites(JobWrites):
    """Schedules and runs, read and written in transactions."""

    def register_schedule(self, job: CompiledJob, since: datetime, *, actor: str) -> None:
        """Record a recurring spec: its ticks after `since` count (idempotent), and
        the revision declaring it (so readers without the spec files see its schedule)."""
        stamp = self._stamp()
        with self.transaction() as conn:
            self._ensure_revision(conn, job, stamp)
            added = conn.execute(
                "INSERT OR IGNORE INTO schedules(name, since, fingerprint, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (job.name, to_text(since), job.fingerprint, stamp),
            ).rowcount
            if added:
                self._audit_schedule(
                    conn, job.name, actor, stamp, f"schedule recorded from {since}"
                )
            else:
                conn.execute(
                    "UPDATE schedules SET fingerprint = ? WHERE name = ? AND fingerprint IS NOT ?",
                    (job.fingerprint, job.name, job.fingerprint),
                )

    def drop_schedule(self, name: str, *, actor: str) -> None:
        """Forget a recurring spec's schedule (its runs stay in history)."""
        stamp = self._stamp()
        with self.transaction() as conn:
            if conn.execute("DELETE FROM schedules WHERE name = ?", (name,)).rowcount:
                self._audit_schedule(conn, name, actor, stamp, "schedule forgotten")

    def _audit_schedule(
        self, conn: SharedConnection, name: str, actor: str, stamp: str, message: str
    ) -> None:
        conn.execute(
            "INSERT INTO audit(at, actor, kind, message) VALUES (?, ?, 'schedule', ?)",
            (stamp, actor, f"{name}: {message}"),
        )

    def record_ticks(
        self,
        name: str,
        decisions: Iterable[TickDecision],
        *,
        cursor: datetime | None,
        fingerprint: str | None,
    ) -> None:
        """Record ticks that did not run and move the cursor, in one transaction."""
        with self.transaction() as conn:
            self._decide(conn, name, list(decisions), cursor, fingerprint)

    def _decide(
        self,
        conn: SharedConnection,
        name: str,
        decisions: list[TickDecision],
        cursor: datetime | None,
        fingerprint: str | None,
    ) -> None:
        stamp = self._stamp()
        for d in decisions[-MAX_RECORDED_TICKS:]:
            conn.execute(
                "INSERT OR IGNORE INTO runs(name, run_key, scheduled_at, outcome, reason,"
                " fingerprint, inputs_digest, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    d.key,
                    to_text(d.at),
                    d.outcome.value,
                    d.reason,
                    fingerprint,
                    d.inputs_digest,
                    stamp,
                ),
            )
        if cursor is not None:
            conn.execute(
                "UPDATE schedules SET cursor = MAX(COALESCE(cursor, ''), ?), updated_at = ?"
                " WHERE name = ?",
                (to_text(cursor), stamp, name),
            )

    def record_run_intent(
        self,
        job: CompiledJob,
        run: RunStamp,
        *,
        submit_key: str,
        attempt: int,
        retry: int = 0,
        supersede: int | None = None,
        decisions: Sequence[TickDecision] = (),
        tick: bool = True,
        actor: str,
        reason: str,
    ) -> JobRecord:
        """The intent to submit one run: its job row, its tick decided (with the
        ticks it leaves behind) and the cursor moved, all in one transaction."""
        with self.transaction() as conn:
            record = self.record_intent(
                job,
                submit_key=submit_key,
                attempt=attempt,
                retry=retry,
                supersede=supersede,
                actor=actor,
                reason=reason,
                run=run,
            )
            self._decide(conn, job.name, list(decisions), run.at if tick else None, job.fingerprint)
            conn.execute(
                "INSERT OR IGNORE INTO runs(name, run_key, scheduled_at, outcome, reason,"
                " fingerprint, inputs_digest, job_id, decided_at)"
                " VALUES (?, ?, ?, 'run', ?, ?, ?, ?, ?)",
                (
                    job.name,
                    run.key,
                    to_text(run.at),
                    reason,
                    job.fingerprint,
                    run.inputs_digest,
                    record.id,
                    self._stamp(),
                ),
            )
            if run.inputs_digest is not None:
                conn.execute(
                    "UPDATE schedules SET inputs_digest = ?, error = NULL, errors = 0"
                    " WHERE name = ?",
                    (run.inputs_digest, job.name),
                )
        return record

    def record_inputs_error(self, name: str, message: str) -> None:
        """Listing the inputs of an input-triggered spec failed (retried next pass)."""
        stamp = self._stamp()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE schedules SET error = ?, error_at = ?, errors = errors + 1,"
                " updated_at = ? WHERE name = ?",
                (message, stamp, stamp, name),
            )

    def record_inputs_seen(self, name: str) -> None:
        """The inputs listed again: clear a recorded listing error."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE schedules SET error = NULL, errors = 0"
                " WHERE name = ? AND error IS NOT NULL",
                (name,),
            )

    def next_run_attempt(self, fingerprint: str, run_key: str) -> int:
        """The attempt number the next job of this run of this revision gets."""
        row = self._conn.execute(
            "SELECT COALESCE(MAX(attempt), 0) + 1 FROM jobs WHERE fingerprint = ? AND run_key = ?",
            (fingerprint, run_key),
        ).fetchone()
        return int(row[0])

    def runs(self, name: str, *, limit: int | None = None) -> list[RunRecord]:
        """Decided ticks of `name`, newest first, each with its latest job."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE name = ? ORDER BY scheduled_at DESC, id DESC"
        params: tuple[Any, ...] = (name,)
        if limit is not None:
            sql += " LIMIT ?"
            params = (name, limit)
        rows = list(self._conn.execute(sql, params))
        latest = self._latest_run_jobs(name)
        return [
            RunRecord(
                id=row[0],
                name=row[1],
                run_key=row[2],
                scheduled_at=from_text(row[3]),  # type: ignore[arg-type]
                outcome=RunOutcome(row[4]),
                reason=row[5],
                fingerprint=row[6],
                inputs_digest=row[7],
                decided_at=from_text(row[8]),  # type: ignore[arg-type]
                job=latest.get(row[2]),
            )
            for row in rows
        ]

    def _latest_run_jobs(self, name: str) -> dict[str, JobRecord]:
        out: dict[str, JobRecord] = {}
        for job in self._jobs("WHERE name = ? AND run_key IS NOT NULL ORDER BY id", (name,)):
            assert job.run_key is not None
            out[job.run_key] = job
        return out

    def find_run(self, name: str, key: str) -> RunRecord | None:
        """The run of `name` with run key `key` (a unique prefix is enough)."""
        found = [r for r in self.runs(name) if r.run_key == key]
        if not found:
            found = [r for r in self.runs(name) if r.run_key.startswith(key)]
        return found[0] if len(found) == 1 else None
