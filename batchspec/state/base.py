"""The core every part of the state store shares: connection, transactions, rows.

Every write goes through `transaction()` (`BEGIN IMMEDIATE`, so two writers
queue instead of failing half-way), which also bumps the serial number.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from batchspec.errors import StateError
from batchspec.model.enums import JobState
from batchspec.state.records import Disposition, JobRecord, Phase, from_text, to_text, utc_now

BUSY_TIMEOUT_MS = 30_000
TERMINAL_VALUES = tuple(sorted(s.value for s in JobState if s.terminal))
JOB_COLUMNS = (
    "id, name, fingerprint, submit_key, attempt, retry, target, backend, phase, state,"
    " disposition, remote_name, source, created_at, updated_at, submitted_at, started_at,"
    " ended_at, completed_count, failed_count, total_count, output_location, error,"
    " cancel_reason, cancel_requested_at, missing_since, manifest_sha256,"
    " run_key, scheduled_at, inputs_digest"
)
_PHASES = {p.value: p for p in Phase}
_STATES = {s.value: s for s in JobState}
_DISPOSITIONS = {d.value: d for d in Disposition}


def _job(row: Sequence[Any]) -> JobRecord:
    return JobRecord(
        id=row[0],
        name=row[1],
        fingerprint=row[2],
        submit_key=row[3],
        attempt=row[4],
        retry=row[5],
        target=row[6],
        backend=row[7],
        phase=_PHASES[row[8]],
        state=_STATES[row[9]] if row[9] else None,
        disposition=_DISPOSITIONS[row[10]],
        remote_name=row[11],
        source=row[12],
        created_at=from_text(row[13]),  # type: ignore[arg-type]
        updated_at=from_text(row[14]),  # type: ignore[arg-type]
        submitted_at=from_text(row[15]),
        started_at=from_text(row[16]),
        ended_at=from_text(row[17]),
        completed_count=row[18],
        failed_count=row[19],
        total_count=row[20],
        output_location=row[21],
        error=row[22],
        cancel_reason=row[23],
        cancel_requested_at=from_text(row[24]),
        missing_since=from_text(row[25]),
        manifest_sha256=row[26],
        run_key=row[27],
        scheduled_at=from_text(row[28]),
        inputs_digest=row[29],
    )


def source_text(source: Path | None) -> str | None:
    """Spec file path relative to the working folder when inside it (portable between
    a laptop and CI), absolute otherwise."""
    if source is None:
        return None
    path = Path(source)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


class StoreBase:
    """Connection, transactions and job rows; the parts below build on it."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path | None,
        *,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._conn = conn
        self.path = path
        self.now = now
        self._depth = 0

    @property
    def exists(self) -> bool:
        """False for the in-memory stand-in of a state file that does not exist yet."""
        return self.path is not None

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with suppress(sqlite3.Error):
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self._conn
            finally:
                self._depth -= 1
            return
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StateError(
                f"state file {self.path} is busy: {exc}",
                hint="another batchspec process is writing; try again",
            ) from exc
        self._depth = 1
        try:
            yield conn
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read across several queries."""
        if self._depth:
            yield self._conn
            return
        self._conn.execute("BEGIN")
        try:
            yield self._conn
        finally:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection (lease management and tests)."""
        return self._conn

    def _stamp(self) -> str:
        text = to_text(self.now())
        assert text is not None
        return text

    @property
    def lineage(self) -> str:
        """A random id given to this state file when it was created."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'lineage'").fetchone()
        return str(row[0])

    @property
    def serial(self) -> int:
        """Incremented by every write transaction."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'serial'").fetchone()
        return int(row[0])

    def _jobs(self, where: str = "", params: Sequence[Any] = ()) -> list[JobRecord]:
        sql = f"SELECT {JOB_COLUMNS} FROM jobs {where}"
        return [_job(row) for row in self._conn.execute(sql, params)]

    def job(self, job_id: int) -> JobRecord:
        """The job with this id (StateError when there is none)."""
        rows = self._jobs("WHERE id = ?", (job_id,))
        if not rows:
            raise StateError(f"no job with id {job_id} in state")
        return rows[0]

    def job_by_remote(self, backend: str, remote_name: str) -> JobRecord | None:
        """The job recorded under this remote name, if any."""
        rows = self._jobs("WHERE backend = ? AND remote_name = ?", (backend, remote_name))
        return rows[0] if rows else None

    def _transition(
        self,
        conn: sqlite3.Connection,
        job_id: int,
        name: str,
        event: str,
        *,
        actor: str,
        stamp: str,
        from_state: str | None = None,
        to_state: str | None = None,
        reason: str | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO transitions(job_id, name, event, from_state, to_state, reason, actor, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, name, event, from_state, to_state, reason, actor, stamp),
        )
