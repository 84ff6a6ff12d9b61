"""The embedded state store: one SQLite file, every write one transaction.

Why SQLite: it is in the standard library, a single file a team can back up
or inspect, safe against a process killed at any instruction (a transaction
either committed or did not), and WAL mode lets readers (`status`, `plan`)
run while a controller writes. Every write goes through `transaction()`
(`BEGIN IMMEDIATE`, so two writers queue instead of failing half-way), which
also bumps a serial number; `state_hash()` summarises the job rows a plan was
made against so that a saved plan can refuse to apply to moved state.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from batchspec.errors import StateError
from batchspec.model.enums import JobState
from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.state.migrations import (
    APPLICATION_ID,
    MIGRATIONS,
    Migration,
    check_sequence,
    latest_version,
)
from batchspec.state.records import (
    AuditEntry,
    Disposition,
    DriftEvent,
    DriftFinding,
    DriftKind,
    JobRecord,
    Phase,
    RevisionRecord,
    StateSnapshot,
    Transition,
    from_text,
    to_text,
    utc_now,
)
from batchspec.state.redact import redact

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
_TERMINAL = tuple(sorted(s.value for s in JobState if s.terminal))
_CORRUPT_HINT = (
    "the file may be damaged: restore the newest *.bak next to it, or move it away"
    " to start with empty state (batchspec then no longer knows which jobs it ran;"
    " `batchspec drift` lists them as unknown jobs)"
)

_JOB_COLUMNS = (
    "id, name, fingerprint, submit_key, attempt, retry, target, backend, phase, state,"
    " disposition, remote_name, source, created_at, updated_at, submitted_at, started_at,"
    " ended_at, completed_count, failed_count, total_count, output_location, error,"
    " cancel_reason, cancel_requested_at, missing_since, manifest_sha256"
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
    )


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (so they run inside our transaction;
    `executescript` would commit first)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.strip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


class StateStore:
    """Recorded state: revisions, jobs, transitions, drift, names, the lease."""

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

    # --- opening ------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        migrations: Sequence[Migration] = MIGRATIONS,
        now: Callable[[], datetime] = utc_now,
    ) -> StateStore:
        """Open (and migrate) the state file at `path`.

        With `create=False` a missing file gives an empty in-memory store, so
        read-only commands (`plan`, `status`) never leave a file behind.
        """
        check_sequence(migrations)
        target = Path(path)
        if not target.exists():
            if not create:
                return cls.memory(migrations=migrations, now=now)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(
                    f"cannot create the state folder {target.parent}: {exc.strerror}",
                    hint="choose another place with --state or $BATCHSPEC_STATE",
                ) from exc
        elif target.is_dir():
            raise StateError(
                f"state path {target} is a folder, not a file",
                hint="point --state (or $BATCHSPEC_STATE) at a file such as .batchspec/state.db",
            )
        else:
            _check_header(target)
        try:
            conn = sqlite3.connect(
                str(target), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StateError(f"cannot open state file {target}: {exc}", hint=_CORRUPT_HINT) from exc
        store = cls(conn, target, now=now)
        try:
            store._prepare(migrations)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StateError(
                f"state file {target} is unreadable: {exc}", hint=_CORRUPT_HINT
            ) from exc
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def memory(
        cls,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        now: Callable[[], datetime] = utc_now,
    ) -> StateStore:
        """An empty store that lives in memory (tests, plans without a state file)."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        store = cls(conn, None, now=now)
        store._configure()
        store._migrate(migrations)
        return store

    @property
    def exists(self) -> bool:
        """False for the in-memory stand-in of a state file that does not exist yet."""
        return self.path is not None

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with suppress(sqlite3.Error):
            self._conn.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self, migrations: Sequence[Migration]) -> None:
        """Configure and migrate, waiting out other processes doing the same.

        Switching a new file to WAL needs a moment of exclusive access, and
        SQLite reports a concurrent switch as "database is locked" without
        calling the busy handler; two batchspec processes starting on a fresh
        state file must both succeed, so a locked file is retried here.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._configure()
                self._migrate(migrations)
                return
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _configure(self) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: the intent written before a submit must survive a power cut too.
            self._conn.execute("PRAGMA synchronous = FULL")

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        latest = latest_version(migrations)
        version = self._user_version()
        app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and version and self.path):
            raise StateError(
                f"{self.path} is an SQLite file but not a batchspec state file",
                hint="point --state (or $BATCHSPEC_STATE) at batchspec's state file",
            )
        if version > latest:
            raise StateError(
                f"state file {self.path} has schema version {version}, newer than this"
                f" batchspec understands (version {latest})",
                hint="upgrade batchspec to the version that wrote it; nothing was changed",
            )
        if version == 0 and app_id == 0 and self._has_tables():
            raise StateError(
                f"{self.path} is an SQLite file but not a batchspec state file",
                hint="point --state (or $BATCHSPEC_STATE) at batchspec's state file",
            )
        backup: Path | None = None
        if 0 < version < latest and self.path is not None:
            backup = self._backup(version)
        for migration in migrations:
            if migration.number > version:
                self._apply_migration(migration)
        self._ensure_meta()
        if backup is not None:
            self.log_audit(
                "migrate",
                f"schema migrated from version {version} to {latest}; backup at {backup}",
                actor="batchspec",
            )

    def _user_version(self) -> int:
        value: int = self._conn.execute("PRAGMA user_version").fetchone()[0]
        return value

    def _has_tables(self) -> bool:
        row = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return bool(row[0])

    def _apply_migration(self, migration: Migration) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            if self._user_version() >= migration.number:
                conn.execute("ROLLBACK")
                return
            for statement in _split_sql(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {migration.number}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _backup(self, version: int) -> Path:
        """Copy the file (consistently, with SQLite's online backup) before migrating."""
        assert self.path is not None
        stamp = self.now().strftime("%Y%m%dT%H%M%SZ")
        backup = self.path.with_name(f"{self.path.name}.v{version}-{stamp}.bak")
        target = sqlite3.connect(str(backup))
        try:
            self._conn.backup(target)
        finally:
            target.close()
        with suppress(OSError):
            shutil.copymode(self.path, backup)
        return backup

    def _ensure_meta(self) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'lineage'").fetchone()
        if row is None:
            with self.transaction() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('lineage', ?), ('serial', '0')",
                    (uuid.uuid4().hex,),
                )

    # --- transactions -------------------------------------------------------------

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

    # --- meta ---------------------------------------------------------------------

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

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return self._user_version()

    # --- reading jobs -------------------------------------------------------------

    def _jobs(self, where: str = "", params: Sequence[Any] = ()) -> list[JobRecord]:
        sql = f"SELECT {_JOB_COLUMNS} FROM jobs {where}"
        return [_job(row) for row in self._conn.execute(sql, params)]

    def job(self, job_id: int) -> JobRecord:
        """The job with this id (StateError when there is none)."""
        rows = self._jobs("WHERE id = ?", (job_id,))
        if not rows:
            raise StateError(f"no job with id {job_id} in state")
        return rows[0]

    def current_jobs(self) -> dict[str, JobRecord]:
        """Spec name -> the job that currently stands for it."""
        return {j.name: j for j in self._jobs("WHERE disposition = 'current' ORDER BY name")}

    def followed_jobs(self) -> list[JobRecord]:
        """Jobs still worth observing: not forgotten and not ended (or not yet submitted)."""
        marks = ",".join("?" * len(_TERMINAL))
        return self._jobs(
            f"WHERE disposition != 'forgotten' AND (state IS NULL OR state NOT IN ({marks}))"
            " ORDER BY id",
            _TERMINAL,
        )

    def tracked_jobs(self) -> list[JobRecord]:
        """Every job not forgotten, ended or not (drift looks at both)."""
        return self._jobs("WHERE disposition != 'forgotten' ORDER BY id")

    def all_jobs(self, *, name: str | None = None) -> list[JobRecord]:
        """Every job ever recorded (optionally for one name), oldest first."""
        if name is None:
            return self._jobs("ORDER BY id")
        return self._jobs("WHERE name = ? ORDER BY id", (name,))

    def find_job(self, ref: str) -> JobRecord | None:
        """Resolve what a user typed: a spec name, a remote name, or `#ID`."""
        if ref.startswith("#") and ref[1:].isdigit():
            rows = self._jobs("WHERE id = ?", (int(ref[1:]),))
            return rows[0] if rows else None
        rows = self._jobs("WHERE name = ? AND disposition = 'current'", (ref,))
        if rows:
            return rows[0]
        rows = self._jobs("WHERE name = ? ORDER BY id DESC LIMIT 1", (ref,))
        if rows:
            return rows[0]
        rows = self._jobs("WHERE remote_name = ? ORDER BY id DESC LIMIT 1", (ref,))
        return rows[0] if rows else None

    def remote_names(self) -> set[tuple[str, str]]:
        """(backend, remote name) of every job ever recorded, forgotten ones included."""
        return {
            (row[0], row[1])
            for row in self._conn.execute(
                "SELECT backend, remote_name FROM jobs WHERE remote_name IS NOT NULL"
            )
        }

    def tracked_backends(self) -> set[str]:
        """Backends of every job not forgotten."""
        return {
            row[0]
            for row in self._conn.execute(
                "SELECT DISTINCT backend FROM jobs WHERE disposition != 'forgotten'"
            )
        }

    def job_by_remote(self, backend: str, remote_name: str) -> JobRecord | None:
        """The job recorded under this remote name, if any."""
        rows = self._jobs("WHERE backend = ? AND remote_name = ?", (backend, remote_name))
        return rows[0] if rows else None

    def job_by_submit_key(self, backend: str, submit_key: str) -> JobRecord | None:
        """The job submitted (or about to be) under this key, if any."""
        rows = self._jobs("WHERE backend = ? AND submit_key = ?", (backend, submit_key))
        return rows[0] if rows else None

    def next_attempt(self, fingerprint: str) -> int:
        """The attempt number the next job of this revision gets (1 for the first)."""
        row = self._conn.execute(
            "SELECT COALESCE(MAX(attempt), 0) + 1 FROM jobs WHERE fingerprint = ?",
            (fingerprint,),
        ).fetchone()
        return int(row[0])

    def state_hash(self) -> str:
        """A digest of every job row's identity and standing (not its counters).

        A saved plan records it; apply recomputes it and refuses the plan when
        any job was added, submitted, changed state or disposition since.
        """
        digest = hashlib.sha256()
        for row in self._conn.execute(
            "SELECT id, name, fingerprint, submit_key, phase, state, disposition,"
            " remote_name, cancel_reason FROM jobs ORDER BY id"
        ):
            digest.update(json.dumps(row, separators=(",", ":")).encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def snapshot(self) -> StateSnapshot:
        """What the planner needs, read consistently."""
        with self._read():
            current = self.current_jobs()
            followed = self.followed_jobs()
            names = frozenset(
                row[0] for row in self._conn.execute("SELECT name FROM names WHERE kind = 'spec'")
            )
            return StateSnapshot(
                current=current,
                followed=followed,
                hash=self.state_hash(),
                lineage=self.lineage,
                serial=self.serial,
                names_used=names,
            )

    # --- revisions ----------------------------------------------------------------

    def revision(self, fingerprint: str) -> RevisionRecord | None:
        """The recorded revision with this fingerprint."""
        found = self.revisions([fingerprint])
        return found.get(fingerprint)

    def revisions(self, fingerprints: Iterable[str]) -> dict[str, RevisionRecord]:
        """Several revisions at once (for plan diffs)."""
        wanted = list(dict.fromkeys(fingerprints))
        out: dict[str, RevisionRecord] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                "SELECT fingerprint, name, target, body, spec, policy, source, created_at"
                f" FROM revisions WHERE fingerprint IN ({marks})",
                chunk,
            ):
                out[row[0]] = RevisionRecord(
                    fingerprint=row[0],
                    name=row[1],
                    target=row[2],
                    body=json.loads(row[3]),
                    spec=json.loads(row[4]),
                    policy=json.loads(row[5]),
                    source=row[6],
                    created_at=from_text(row[7]),  # type: ignore[arg-type]
                )
        return out

    def _ensure_revision(self, conn: sqlite3.Connection, job: CompiledJob, stamp: str) -> None:
        spec = job.spec.model_dump(mode="json", by_alias=True)
        conn.execute(
            "INSERT OR IGNORE INTO revisions(fingerprint, name, target, body, spec, policy,"
            " source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.fingerprint,
                job.name,
                job.target.value,
                json.dumps(redact(job.body), sort_keys=True),
                json.dumps(redact(spec), sort_keys=True),
                json.dumps(spec["spec"]["policy"], sort_keys=True),
                _source_text(job.source),
                stamp,
            ),
        )

    def _use_name(
        self, conn: sqlite3.Connection, kind: str, name: str, stamp: str, backend: str = ""
    ) -> None:
        conn.execute(
            "INSERT INTO names(kind, backend, name, first_used_at, last_used_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(kind, backend, name) DO UPDATE SET last_used_at = excluded.last_used_at",
            (kind, backend, name, stamp, stamp),
        )

    def names_used(self, kind: str = "spec") -> list[tuple[str, str, datetime]]:
        """(backend, name, first used) for every name of that kind ever used."""
        return [
            (row[0], row[1], from_text(row[2]))  # type: ignore[misc]
            for row in self._conn.execute(
                "SELECT backend, name, first_used_at FROM names WHERE kind = ? ORDER BY name",
                (kind,),
            )
        ]

    # --- writing jobs -------------------------------------------------------------

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
                    " backend, phase, disposition, source, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'intent', 'current', ?, ?, ?)",
                    (
                        job.name,
                        job.fingerprint,
                        submit_key,
                        attempt,
                        retry,
                        job.target.value,
                        backend_name,
                        _source_text(job.source),
                        stamp,
                        stamp,
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
            conn.execute(
                "UPDATE jobs SET phase = 'submitted', remote_name = ?, submitted_at = ?,"
                " updated_at = ? WHERE id = ?",
                (remote.remote_name, to_text(remote.create_time) or stamp, stamp, job_id),
            )
            self._use_name(conn, "remote", remote.remote_name, stamp, backend=current.backend)
            self._transition(
                conn,
                job_id,
                current.name,
                "adopted" if adopted else "submitted",
                actor=actor,
                stamp=stamp,
                reason=f"remote job {remote.remote_name}",
            )
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
                if self._apply_observation(conn, record, remote, actor=actor, stamp=stamp):
                    changed.append((record, self.job(record.id)))
        return changed

    def _apply_observation(
        self,
        conn: sqlite3.Connection,
        record: JobRecord,
        remote: RemoteJob,
        *,
        actor: str,
        stamp: str,
    ) -> bool:
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
        if values == before:
            return False
        assignments = ", ".join(f"{column} = ?" for column in values)
        conn.execute(
            f"UPDATE jobs SET {assignments}, updated_at = ? WHERE id = ?",
            (*values.values(), stamp, record.id),
        )
        if before["state"] != values["state"]:
            self._transition(
                conn,
                record.id,
                record.name,
                "state",
                actor=actor,
                stamp=stamp,
                from_state=before["state"],
                to_state=state.value,
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

    def record_rejected(self, job_id: int, *, error: str, actor: str) -> JobRecord:
        """The backend refused the submit for good: nothing was created; the attempt
        counts as FAILED (so the retry policy applies) and stays unsubmitted."""
        stamp = self._stamp()
        with self.transaction() as conn:
            record = self.job(job_id)
            conn.execute(
                "UPDATE jobs SET state = 'FAILED', error = ?, ended_at = ?, updated_at = ?"
                " WHERE id = ?",
                (error, stamp, stamp, job_id),
            )
            self._transition(
                conn,
                job_id,
                record.name,
                "rejected",
                actor=actor,
                stamp=stamp,
                to_state="FAILED",
                reason=error,
            )
        return self.job(job_id)

    def record_missing(self, job_id: int, *, actor: str, reason: str) -> JobRecord:
        """The backend no longer knows the job (deleted outside batchspec)."""
        stamp = self._stamp()
        with self.transaction() as conn:
            record = self.job(job_id)
            if record.missing_since is None:
                conn.execute(
                    "UPDATE jobs SET missing_since = ?, updated_at = ? WHERE id = ?",
                    (stamp, stamp, job_id),
                )
                self._transition(
                    conn, job_id, record.name, "missing", actor=actor, stamp=stamp, reason=reason
                )
        return self.job(job_id)

    def record_cancel_requested(
        self, job_id: int, *, reason: str, actor: str, remote: RemoteJob | None = None
    ) -> JobRecord:
        """batchspec asked the backend to cancel (so a CANCELLED state is not drift)."""
        stamp = self._stamp()
        with self.transaction() as conn:
            record = self.job(job_id)
            conn.execute(
                "UPDATE jobs SET cancel_reason = ?, cancel_requested_at = ?, updated_at = ?"
                " WHERE id = ?",
                (reason, stamp, stamp, job_id),
            )
            self._transition(
                conn,
                job_id,
                record.name,
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
        conn: sqlite3.Connection,
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
        conn.execute(
            "UPDATE jobs SET disposition = ?, updated_at = ? WHERE id = ?",
            (disposition.value, stamp, job_id),
        )
        self._transition(
            conn, job_id, record.name, disposition.value, actor=actor, stamp=stamp, reason=reason
        )

    def set_manifest_sha256(self, job_id: int, sha256: str | None) -> None:
        """Remember the output manifest's digest at success (outputs drift baseline)."""
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET manifest_sha256 = ? WHERE id = ?", (sha256, job_id))

    # --- history, drift, audit ----------------------------------------------------

    def transitions(
        self, *, name: str | None = None, job_id: int | None = None, limit: int | None = None
    ) -> list[Transition]:
        """Events, oldest first; the newest `limit` when a limit is given."""
        clauses: list[str] = []
        params: list[Any] = []
        if name is not None:
            clauses.append("name = ?")
            params.append(name)
        if job_id is not None:
            clauses.append("job_id = ?")
            params.append(job_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            "SELECT id, job_id, name, event, from_state, to_state, reason, actor, at"
            f" FROM transitions {where} ORDER BY id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = list(self._conn.execute(sql, params))
        rows.reverse()
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
                at=from_text(r[8]),  # type: ignore[arg-type]
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
        clauses: list[str] = []
        params: list[Any] = []
        if name is not None:
            clauses.append("name = ?")
            params.append(name)
        if keys is not None:
            clauses.append(f"key IN ({','.join('?' * len(keys))})")
            params.extend(keys)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            "SELECT id, kind, name, job_id, backend, remote_name, detail, first_seen, last_seen,"
            f" times_seen FROM drift {where} ORDER BY last_seen DESC, id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = list(self._conn.execute(sql, params))
        rows.reverse()
        return [
            DriftEvent(
                id=r[0],
                finding=DriftFinding(
                    kind=DriftKind(r[1]),
                    name=r[2],
                    job_id=r[3],
                    backend=r[4],
                    remote_name=r[5],
                    detail=r[6],
                ),
                first_seen=from_text(r[7]),  # type: ignore[arg-type]
                last_seen=from_text(r[8]),  # type: ignore[arg-type]
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
        sql = "SELECT id, at, actor, kind, message FROM audit ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = list(self._conn.execute(sql))
        rows.reverse()
        return [
            AuditEntry(id=r[0], at=from_text(r[1]), actor=r[2], kind=r[3], message=r[4])  # type: ignore[arg-type]
            for r in rows
        ]


def _source_text(source: Path | None) -> str | None:
    """Spec file path relative to the working folder when inside it (portable between
    a laptop and CI), absolute otherwise."""
    if source is None:
        return None
    path = Path(source)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _check_header(path: Path) -> None:
    """Fail fast, and clearly, on a file that is not SQLite at all."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StateError(
            f"cannot read state file {path}: {exc.strerror}",
            hint="check the file's permissions, or choose another with --state",
        ) from exc
    if head and head != SQLITE_HEADER:
        raise StateError(
            f"state file {path} is not an SQLite database (corrupt?)", hint=_CORRUPT_HINT
        )
