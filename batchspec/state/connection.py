"""The one SQLite connection a process keeps to a state file, and the guard
that keeps anything else from touching the file.

Why one connection, and why nothing may open the file outside SQLite: POSIX
advisory locks belong to a process and an inode, and closing *any*
descriptor of a file drops every lock the process holds on it (SQLite, "How
To Corrupt An SQLite Database File", section 2.2). One `open(state.db)` and
`close()` in a process that holds a connection silently unlocks it; the next
process to close its own connection then believes it is the last user,
checkpoints and deletes the write-ahead log the first is still writing into,
and rows vanish. So:

* all threads of a process share one connection per state file (found by
  device and inode), serialised by a re-entrant lock that a transaction holds
  from BEGIN to COMMIT; the lease keeper heartbeats through it instead of
  opening its own;
* nothing in batchspec opens the file, its `-wal`, `-shm` or `-journal`
  outside SQLite: while a connection is held, an audit hook turns such an
  open into an error (and a test scans the source for raw opens).

SQLite's own errors that mean "the file or the disk" (full, read-only, I/O,
damaged) become StateErrors here, once, with what to do about them.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from batchspec.errors import StateError

# How long a statement waits for another process's lock before SQLITE_BUSY.
BUSY_TIMEOUT_MS = 30_000
SIDE_FILES = ("", "-wal", "-shm", "-journal")
BACKUP_GLOB = "*.bak"

# Primary result codes (https://www.sqlite.org/rescode.html).
SQLITE_PERM = 3
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26


class UnsafeStateAccessError(RuntimeError):
    """Code tried to open a state file outside SQLite while this process holds a
    connection to it. Always a bug in batchspec: it would drop SQLite's locks."""


class Rows:
    """The rows of one statement, fetched while the connection lock was held."""

    def __init__(self, rows: list[Any], lastrowid: int | None, rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        """The next row, or None."""
        if self._next >= len(self._rows):
            return None
        row = self._rows[self._next]
        self._next += 1
        return row

    def fetchall(self) -> list[Any]:
        """Every row not fetched yet."""
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


def newest_backup(path: Path) -> Path | None:
    """The most recent `*.bak` copy of the state file next to it, if any."""
    try:
        candidates = [p for p in path.parent.glob(f"{path.name}{BACKUP_GLOB}") if p.is_file()]
    except OSError:
        return None
    return max(candidates, key=lambda p: p.stat().st_mtime, default=None)


def damaged_hint(path: Path | None) -> str:
    """What to do about a damaged state file: the newest backup, by name."""
    where = path.name if path is not None else "the state file"
    backup = newest_backup(path) if path is not None else None
    restore = (
        f"restore the newest backup ({backup}) over {where}"
        if backup is not None
        else f"no backup ({where}{BACKUP_GLOB}) exists next to it; move it away"
    )
    return (
        f"{restore}, or move it away to start with empty state (batchspec then no longer"
        " knows which jobs it ran; `batchspec drift` lists them as unknown jobs)"
    )


def as_state_error(exc: sqlite3.Error, path: Path | None) -> StateError | None:
    """A StateError for SQLite errors about the file or the disk; None for the rest
    (busy, constraint violations, programming errors) so callers handle those."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    where = f"state file {path}" if path is not None else "the in-memory state"
    if primary == SQLITE_FULL:
        return StateError(
            f"disk full: cannot write {where}; this change was rolled back, nothing"
            " was half-written",
            hint=f"free space on the disk that holds {path.parent if path else 'it'}, then"
            " run the command again (it resumes where it stopped)",
        )
    if primary in (SQLITE_READONLY, SQLITE_PERM):
        return StateError(
            f"cannot write {where}: it (or its folder) is read-only ({exc})",
            hint="read-only commands (status, plan, history) still work; run this one where"
            " the state is writable, or choose another with --state",
        )
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        what = "is not an SQLite database" if primary == SQLITE_NOTADB else "is damaged"
        return StateError(f"{where} {what} ({exc})", hint=damaged_hint(path))
    if primary == SQLITE_IOERR:
        return StateError(
            f"I/O error on {where}: {exc}",
            hint="check the disk and the file system it is on (`dmesg` may say more)",
        )
    if primary == SQLITE_CANTOPEN:
        return StateError(
            f"cannot open {where}: {exc}",
            hint="check that the file and its folder exist and can be read; choose"
            " another with --state",
        )
    return None


class SharedConnection:
    """One SQLite connection, used by every thread of the process under one lock."""

    def __init__(self, raw: sqlite3.Connection, path: Path | None, *, readonly: bool) -> None:
        self.raw = raw
        self.path = path
        self.readonly = readonly
        self.lock = threading.RLock()
        self.depth = 0  # transaction nesting of the thread holding `lock`
        self.refs = 1
        self.pid = os.getpid()
        self.key: tuple[int, int] | None = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement and fetch its rows, holding the lock throughout."""
        with self.lock:
            try:
                cursor = self.raw.execute(sql, params)
                rows = cursor.fetchall()
            except sqlite3.Error as exc:
                translated = as_state_error(exc, self.path)
                if translated is not None:
                    raise translated from exc
                raise
            return Rows(rows, cursor.lastrowid, cursor.rowcount)

    @contextmanager
    def immediate(self) -> Iterator[SharedConnection]:
        """BEGIN IMMEDIATE ... COMMIT with the lock held throughout; ROLLBACK on any
        exception (BEGIN IMMEDIATE: two writers queue instead of failing half-way)."""
        with self.lock:
            try:
                self.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StateError(
                    f"state file {self.path} is busy: {exc}",
                    hint="another batchspec process is writing; try again",
                ) from exc
            self.depth = 1
            try:
                yield self
                self.execute("COMMIT")
            except BaseException:
                if self.in_transaction:
                    with suppress(sqlite3.Error, StateError):
                        self.execute("ROLLBACK")
                raise
            finally:
                self.depth = 0

    @property
    def in_transaction(self) -> bool:
        """True between BEGIN and COMMIT/ROLLBACK."""
        return self.raw.in_transaction

    def backup(self, target: sqlite3.Connection) -> None:
        """SQLite's online backup into `target` (consistent while others write)."""
        with self.lock:
            self.raw.backup(target)

    def close(self) -> None:
        """Give back one reference; the last one closes the connection."""
        # Always this connection's lock before the registry's (as a thread inside a
        # transaction that opens another store takes them): never the reverse.
        with self.lock, _REGISTRY_LOCK:
            self.refs -= 1
            if self.refs > 0:
                return
            if self.key is not None and _OPEN.get(self.key) is self:
                del _OPEN[self.key]
                _GUARD.unwatch(self.path, self.key)
            if self.pid == os.getpid():
                with suppress(sqlite3.Error):
                    self.raw.close()


_REGISTRY_LOCK = threading.RLock()
_OPEN: dict[tuple[int, int], SharedConnection] = {}


def file_key(stat: os.stat_result) -> tuple[int, int]:
    """Identity of a file regardless of the path used to reach it."""
    return (stat.st_dev, stat.st_ino)


def shared(key: tuple[int, int]) -> SharedConnection | None:
    """This process's connection to the file with this identity, taking a reference."""
    with _REGISTRY_LOCK:
        found = _OPEN.get(key)
        if found is None or found.pid != os.getpid():
            return None  # none, or one inherited through fork(): never reuse that
        found.refs += 1
        return found


def connect(path: Path, key: tuple[int, int], *, readonly: bool) -> SharedConnection:
    """This process's connection to `path` (an existing regular file): the shared
    one when there is one, else a new one, registered and guarded."""
    with _REGISTRY_LOCK:
        existing = shared(key)
        if existing is not None:
            return existing
        raw = _open(path, readonly=readonly)
        conn = SharedConnection(raw, path, readonly=readonly)
        conn.key = key
        _OPEN[key] = conn
        _GUARD.watch(path, key)
        return conn


def _open(path: Path, *, readonly: bool) -> sqlite3.Connection:
    target = str(path.resolve())
    if readonly:
        # mode=ro: a reader in a folder it cannot write; immutable=1 when not even
        # the WAL's shared-memory file can be created (nobody is writing then).
        for query in ("mode=ro", "mode=ro&immutable=1"):
            raw = sqlite3.connect(
                f"file:{_uri_path(target)}?{query}",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError as exc:
                raw.close()
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF != SQLITE_CANTOPEN:
                    raise
                continue
            return raw
    return sqlite3.connect(
        target,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )


def _uri_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


# --- the guard against opening a state file outside SQLite ------------------------


class _OpenGuard:
    """Refuses Python's `open()` (audit event "open") of the files of a state file
    this process holds a connection to. Installed on first use only, so commands
    that never open state (`validate`) never pay for the hook."""

    def __init__(self) -> None:
        self.watched: dict[str, int] = {}
        self.names: tuple[str, ...] = ()
        self.files: dict[tuple[int, int], int] = {}
        self.hooked = False

    @staticmethod
    def variants(path: Path) -> list[str]:
        real = os.path.realpath(path)
        return [real + suffix for suffix in SIDE_FILES]

    def watch(self, path: Path, key: tuple[int, int]) -> None:
        if not self.hooked:
            sys.addaudithook(self.audit)
            self.hooked = True
        for name in self.variants(path):
            self.watched[name] = self.watched.get(name, 0) + 1
        self.files[key] = self.files.get(key, 0) + 1
        self.names = tuple({os.path.basename(name) for name in self.watched})

    def unwatch(self, path: Path | None, key: tuple[int, int] | None) -> None:
        if path is None or key is None:
            return
        for name in self.variants(path):
            left = self.watched.get(name, 0) - 1
            if left > 0:
                self.watched[name] = left
            else:
                self.watched.pop(name, None)
        if self.files.get(key, 0) > 1:
            self.files[key] -= 1
        else:
            self.files.pop(key, None)
        self.names = tuple({os.path.basename(name) for name in self.watched})

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not self.names:
            return
        target = args[0] if args else None
        if target is None or isinstance(target, int):
            return
        try:
            name = os.fsdecode(target)
        except TypeError:
            return
        if name.endswith(self.names):
            real = os.path.realpath(name)
            hit = real in self.watched
        else:  # another name for the same file: a symbolic or hard link
            try:
                found = os.stat(name)
            except (OSError, ValueError):
                return
            real, hit = name, file_key(found) in self.files
        if hit:
            raise UnsafeStateAccessError(
                f"refusing to open {real} outside SQLite while this process holds a"
                " connection to it: closing that descriptor would drop SQLite's locks and"
                " let another process delete the write-ahead log"
                " (sqlite.org/howtocorrupt.html, section 2.2)"
            )


_GUARD = _OpenGuard()
