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
from batchspec.state.connection import (
    BUSY_TIMEOUT_MS,
    SharedConnection,
    as_state_error,
    connect,
    damaged_hint,
    file_key,
)
from batchspec.state.files import (
    check_writable,
    missing_schema,
    new_file_beside,
    split_sql,
    stat_state_file,
    writable_location,
)
from batchspec.state.history import HistoryLog
from batchspec.state.migrations import (
    APPLICATION_ID,
    MIGRATIONS,
    Migration,
    check_sequence,
    latest_version,
)
from batchspec.state.queries import JobQueries
from batchspec.state.records import utc_now
from batchspec.state.writes import JobWrites


class StateStore(HistoryLog, JobWrites, JobQueries):
    """Recorded state: revisions, jobs, transitions, drift, names, the lease."""

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        readonly: bool = False,
        init: bool = False,
        migrations: Sequence[Migration] = MIGRATIONS,
        now: Callable[[], datetime] = utc_now,
    ) -> StateStore:
        """Open (checking, and migrating) the state file at `path`.

        With `create=False` a missing file gives an empty in-memory store, so
        read-only commands (`plan`, `status`) never leave a file behind.
        `readonly` opens for reading only (no integrity scan, and a file or
        folder that cannot be written still reads); `init` accepts an empty
        (0-byte) file as new state, which is otherwise refused.
        """
        check_sequence(migrations)
        target = Path(path)
        if not cls._ensure_file(
            target, create=create, readonly=readonly, init=init, now=now, migrations=migrations
        ):
            return cls.memory(migrations=migrations, now=now)
        conn = cls._connect(target, readonly=readonly)
        store = cls(conn, target, now=now)
        try:
            store._prepare(migrations, write=not readonly)
        except sqlite3.DatabaseError as exc:
            store.close()
            raise StateError(
                f"state file {target} is unreadable: {exc}", hint=damaged_hint(target)
            ) from exc
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def _ensure_file(
        cls,
        target: Path,
        *,
        create: bool,
        readonly: bool,
        init: bool,
        now: Callable[[], datetime],
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> bool:
        """Make sure a usable file stands at `target`; False when there is none and
        none may be created (the caller then reads empty state from memory)."""
        found = stat_state_file(target)
        if found is None:
            if not create:
                return False
            cls._create(target, migrations, now=now)
        elif found.st_size == 0:
            if not init or readonly:
                raise StateError(
                    f"state file {target} is empty (0 bytes): that is not empty state; a state"
                    " file lost its contents, or something else created it",
                    hint=f"{damaged_hint(target)}; to start new state in it on purpose, run"
                    " `batchspec apply --init` (or `reconcile --init`)",
                )
            cls._create(target, migrations, now=now, replace_empty=True)
        return True

    @staticmethod
    def _connect(target: Path, *, readonly: bool) -> SharedConnection:
        """This process's connection to the file; read-only only for readers of a
        file or folder that cannot be written."""
        if not readonly:
            check_writable(target)
        found = stat_state_file(target)
        if found is None:
            raise StateError(f"state file {target} disappeared while it was being opened")
        try:
            conn = connect(
                target, file_key(found), readonly=readonly and not writable_location(target)
            )
        except sqlite3.Error as exc:
            raise as_state_error(exc, target) or StateError(
                f"cannot open state file {target}: {exc}", hint=damaged_hint(target)
            ) from exc
        if conn.readonly and not readonly:  # a reader's connection, shared, cannot write
            conn.close()
            check_writable(target, force=True)
        return conn

    @classmethod
    def _create(
        cls,
        target: Path,
        migrations: Sequence[Migration],
        *,
        now: Callable[[], datetime],
        replace_empty: bool = False,
    ) -> None:
        """Build a new state file beside `target`, then put it in place in one step."""
        with new_file_beside(target, replace_empty=replace_empty) as (temp, publish):
            try:
                raw = sqlite3.connect(str(temp), isolation_level=None, check_same_thread=False)
            except sqlite3.Error as exc:
                raise as_state_error(exc, target) or StateError(
                    f"cannot create state file {target}: {exc}"
                ) from exc
            # Messages name the state file; the connection is private to this call.
            store = cls(SharedConnection(raw, target, readonly=False), target, now=now)
            try:
                store._configure()
                store._migrate(migrations)
            finally:
                store.close()
            publish()

    @classmethod
    def memory(
        cls,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        now: Callable[[], datetime] = utc_now,
    ) -> StateStore:
        """An empty store that lives in memory (tests, plans without a state file)."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        store = cls(SharedConnection(conn, None, readonly=False), None, now=now)
        store._configure()
        store._migrate(migrations)
        return store

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self, migrations: Sequence[Migration], *, write: bool) -> None:
        """Identify, check, configure and migrate, waiting out other processes doing the same.

        Nothing is written before the file is known to be batchspec's (a
        foreign SQLite file is left byte for byte as it was). Switching a new
        file to WAL needs a moment of exclusive access, and SQLite reports a
        concurrent switch as "database is locked" without calling the busy
        handler; two batchspec processes starting on one state file must both
        succeed, so a locked file is retried here.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._identify(migrations)
                if write:
                    self._check_integrity()
                self._configure()
                self._migrate(migrations)
                self._check_schema(migrations)
                return
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _identify(self, migrations: Sequence[Migration]) -> None:
        """Refuse, before anything is written, files that are not batchspec state or
        are newer than this batchspec (read through SQLite: never a raw open)."""
        version = self._user_version()
        app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id not in (0, APPLICATION_ID) or (
            app_id == 0 and (version or self._has_tables()) and self.path is not None
        ):
            raise StateError(
                f"{self.path} is an SQLite file but not a batchspec state file;"
                " it was left unchanged",
                hint="point --state (or $BATCHSPEC_STATE) at batchspec's state file",
            )
        latest = latest_version(migrations)
        if version > latest:
            raise StateError(
                f"state file {self.path} has schema version {version}, newer than this"
                f" batchspec understands (version {latest})",
                hint="upgrade batchspec to the version that wrote it; nothing was changed",
            )

    def _check_integrity(self) -> None:
        """SQLite's quick_check before a writer touches the file: damage found now is
        reported with the backup to restore, not built upon."""
        if self.path is None:
            return
        problems = [str(row[0]) for row in self._conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
            raise StateError(
                f"state file {self.path} failed SQLite's integrity check: {shown}",
                hint=damaged_hint(self.path),
            )

    def _configure(self) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None and not self._conn.readonly:
            mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: the intent written before a submit must survive a power cut too.
            self._conn.execute("PRAGMA synchronous = FULL")

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        latest = latest_version(migrations)
        version = self._user_version()
        if version < latest and self._conn.readonly:
            raise StateError(
                f"state file {self.path} has schema version {version}; this batchspec needs"
                f" version {latest} and cannot migrate it where it is read-only",
                hint="run a command that writes (apply) where the file is writable, once",
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

    def _check_schema(self, migrations: Sequence[Migration]) -> None:
        """Every table, column and index the schema version promises is there (a
        dropped table or a lost unique index is damage, found now, not mid-pass)."""
        if self.path is None:
            return
        missing = missing_schema(self._conn, migrations)
        if missing:
            raise StateError(
                f"state file {self.path} is damaged: {', '.join(missing)} missing",
                hint=damaged_hint(self.path),
            )

    def _user_version(self) -> int:
        value: int = self._conn.execute("PRAGMA user_version").fetchone()[0]
        return value

    def _has_tables(self) -> bool:
        row = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return bool(row[0])

    def _apply_migration(self, migration: Migration) -> None:
        with self._conn.immediate() as conn:
            # Another process may have migrated while we waited for the write lock.
            if self._user_version() >= migration.number:
                return
            for statement in split_sql(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {migration.number}")

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
