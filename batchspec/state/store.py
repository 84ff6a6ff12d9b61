"""The embedded state store: one SQLite file, every write one transaction.

Why SQLite: it is in the standard library, a single file a team can back up
or inspect, safe against a process killed at any instruction (a transaction
either committed or did not), and WAL mode lets readers (`status`, `plan`)
run while a controller writes. Every write goes through `transaction()`
(`BEGIN IMMEDIATE`, so two writers queue instead of failing half-way), which
also bumps a serial number; `state_hash()` summarises the job rows a plan was
made against so that a saved plan can refuse to apply to moved state.

The class is assembled from small parts: `base` (connection, transactions,
rows), `queries` (reads), `writes` (the recording protocol), `history`
(transitions, drift, audit); this module opens, checks and migrates files.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from batchspec.errors import StateError
from batchspec.state.base import BUSY_TIMEOUT_MS
from batchspec.state.history import HistoryLog
from batchspec.state.migrations import (
    APPLICATION_ID,
    MIGRATIONS,
    Migration,
    check_sequence,
    latest_version,
)
from batchspec.state.models import ModelStore
from batchspec.state.queries import JobQueries
from batchspec.state.records import utc_now
from batchspec.state.writes import JobWrites

SQLITE_HEADER = b"SQLite format 3\x00"
_CORRUPT_HINT = (
    "the file may be damaged: restore the newest *.bak next to it, or move it away"
    " to start with empty state (batchspec then no longer knows which jobs it ran;"
    " `batchspec drift` lists them as unknown jobs)"
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


class StateStore(HistoryLog, JobWrites, JobQueries, ModelStore):
    """Recorded state: revisions, jobs, transitions, drift, names, the lease,
    model uploads."""

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

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return self._user_version()


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
