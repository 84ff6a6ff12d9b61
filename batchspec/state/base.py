"""The core every part of the state store shares: connection, transactions, rows.

Every write goes through `transaction()` (`BEGIN IMMEDIATE`, so two writers
queue instead of failing half-way), which also bumps the serial number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from functools import cache, partial
from pathlib import Path
from typing import Any, TypeVar

from batchspec.errors import StateError
from batchspec.model.enums import JobState
from batchspec.state.connection import SharedConnection, damaged_hint
from batchspec.state.records import Disposition, JobRecord, Phase, from_text, to_text, utc_now

E = TypeVar("E", bound=Enum)
R = TypeVar("R")


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


def decode_enum(table: Mapping[str, E], value: Any, what: str, path: Path | None) -> E:
    """An enum member from a stored value; a clear StateError for one this batchspec
    does not know (a newer version wrote it, or the file was edited by hand)."""
    try:
        return table[value]
    except (KeyError, TypeError):
        known = ", ".join(sorted(table))
        raise StateError(
            f"state file {path} holds {what} {value!r}, which this batchspec does not know"
            f" (it knows {known})",
            hint="a newer batchspec wrote it, or the file was edited by hand: upgrade"
            " batchspec, or correct the row (a backup is safest: " + damaged_hint(path) + ")",
        ) from None


def decode_time(value: Any, what: str, path: Path | None) -> datetime | None:
    """A stored timestamp; a clear StateError when it is not one."""
    try:
        return from_text(value)
    except (TypeError, ValueError):
        raise StateError(
            f"state file {path} holds {what} {value!r}, which is not a timestamp",
            hint=damaged_hint(path),
        ) from None


Decode = Callable[[Any, str, Path | None], Any]


@cache
def _names(select: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in select.split(","))


def from_row(
    make: Callable[..., R],
    columns: str,
    row: Sequence[Any],
    decode: Mapping[str, Decode],
    *,
    where: str,
    path: Path | None,
) -> R:
    """A record from a row of `SELECT {columns}`, the columns named as the
    record's fields (`"id, name, phase"`): each value
    `decode` names is checked (`decode_time`, `decode_enum`), so a value this
    batchspec did not write is named with its row (`job #3 phase`) instead of
    failing somewhere later."""
    values = dict(zip(_names(columns), row, strict=True))
    for column, read in decode.items():
        values[column] = read(values[column], f"{where} {column}", path)
    return make(**values)


def _state(value: Any, what: str, path: Path | None) -> JobState | None:
    return decode_enum(_STATES, value, what, path) if value else None


_JOB_DECODE: dict[str, Decode] = {
    "phase": partial(decode_enum, _PHASES),
    "state": _state,
    "disposition": partial(decode_enum, _DISPOSITIONS),
    **dict.fromkeys(
        ("created_at", "updated_at", "submitted_at", "started_at", "ended_at"), decode_time
    ),
    **dict.fromkeys(("cancel_requested_at", "missing_since", "scheduled_at"), decode_time),
}


def _job(row: Sequence[Any], path: Path | None) -> JobRecord:
    return from_row(JobRecord, JOB_COLUMNS, row, _JOB_DECODE, where=f"job #{row[0]}", path=path)


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
        conn: SharedConnection,
        path: Path | None,
        *,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._conn = conn
        self.path = path
        self.now = now
        self._closed = False

    @property
    def exists(self) -> bool:
        """False for the in-memory stand-in of a state file that does not exist yet."""
        return self.path is not None

    def close(self) -> None:
        """Give the connection back (idempotent; the process's last user closes it)."""
        if not self._closed:
            self._closed = True
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[SharedConnection]:
        """One write transaction (nested calls join the outer one).

        The connection's lock is held from BEGIN to COMMIT: other threads of
        this process (the lease keeper) wait for the whole transaction, never
        slip a statement into it.
        """
        conn = self._conn
        with conn.lock:
            if conn.depth:
                conn.depth += 1
                try:
                    yield conn
                finally:
                    conn.depth -= 1
                return
            with conn.immediate():
                yield conn
                conn.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'"
                )

    @contextmanager
    def _read(self) -> Iterator[SharedConnection]:
        """A consistent read across several queries."""
        conn = self._conn
        with conn.lock:
            if conn.depth or conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @property
    def connection(self) -> SharedConnection:
        """The process's shared connection (lease management and tests)."""
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

    def _records(
        self,
        make: Callable[..., R],
        select: str,
        rows: Iterable[Sequence[Any]],
        decode: Mapping[str, Decode],
        what: str,
    ) -> list[R]:
        """Rows of `SELECT {select}` as records (see `from_row`); a value that
        does not decode is named by its row: `{what} #{first column}`."""
        path = self.path
        return [from_row(make, select, r, decode, where=f"{what} #{r[0]}", path=path) for r in rows]

    def _jobs(self, where: str = "", params: Sequence[Any] = ()) -> list[JobRecord]:
        sql = f"SELECT {JOB_COLUMNS} FROM jobs {where}"
        return [_job(row, self.path) for row in self._conn.execute(sql, params)]

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
        conn: SharedConnection,
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
