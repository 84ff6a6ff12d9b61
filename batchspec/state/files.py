"""The state file as a file: what may stand at the path, where it may be
written, how a new one comes into being, and what its schema must contain.

Everything here works with `os.stat`, `os.access`, links and renames, never
by opening the file: see `connection` for why a raw open is forbidden.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path

from batchspec.errors import StateError
from batchspec.state.connection import SIDE_FILES, SharedConnection
from batchspec.state.migrations import Migration

_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}
_CHOOSE = "point --state (or $BATCHSPEC_STATE) at a file such as .batchspec/state.db"


def stat_state_file(path: Path) -> os.stat_result | None:
    """What stands at the state path: None when nothing does; StateError for anything
    but a regular file (a FIFO is refused here, before anything could block on it)."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            raise StateError(
                f"state path {path} is a symbolic link to {os.readlink(path)}, which does"
                " not exist",
                hint="create the target's folder, or " + _CHOOSE,
            ) from None
        return None
    except NotADirectoryError:
        raise StateError(
            f"state path {path} is inside something that is not a folder", hint=_CHOOSE
        ) from None
    except OSError as exc:
        raise StateError(
            f"cannot look at state file {path}: {exc.strerror}",
            hint="check the permissions of its folder, or choose another with --state",
        ) from exc
    if stat.S_ISDIR(found.st_mode):
        raise StateError(f"state path {path} is a folder, not a file", hint=_CHOOSE)
    if not stat.S_ISREG(found.st_mode):
        kind = _KINDS.get(stat.S_IFMT(found.st_mode), "not a regular file")
        raise StateError(f"state path {path} is {kind}, not a state file", hint=_CHOOSE)
    return found


def writable_location(path: Path) -> bool:
    """True when both the file and its folder can be written (SQLite keeps its
    write-ahead log and shared-memory file next to the database)."""
    folder = path.parent if str(path.parent) else Path(".")
    return os.access(path, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)


def check_writable(path: Path, *, force: bool = False) -> None:
    """A clear error for a writer on a read-only file or folder."""
    if not force and writable_location(path):
        return
    folder = path.parent if str(path.parent) else Path(".")
    what = "the file" if os.access(folder, os.W_OK | os.X_OK) else f"its folder {folder}"
    raise StateError(
        f"cannot write state file {path}: {what} is read-only",
        hint="read-only commands (status, plan, history) still work; run this one where"
        " the state can be written (SQLite also writes a -wal and -shm file next to it),"
        " or choose another with --state",
    )


@contextmanager
def new_file_beside(
    target: Path, *, replace_empty: bool = False
) -> Iterator[tuple[Path, Callable[[], None]]]:
    """A fresh SQLite file next to `target` and a `publish()` that puts it in place.

    A state file is never built where it will live: a crash, a full disk or a
    second process starting at the same moment must never leave a half-made
    or empty file at the state path. `publish()` hard-links the finished file
    into place (atomic, and it loses to a file someone else published first)
    or, with `replace_empty`, renames it over the empty file being initialised.
    """
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(
            f"cannot create the state folder {folder}: {exc.strerror}",
            hint="choose another place with --state or $BATCHSPEC_STATE",
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        check_writable(target, force=True)
    temp = folder / f".{target.name}.{uuid.uuid4().hex[:12]}.new"

    def publish() -> None:
        if replace_empty:
            found = stat_state_file(target)
            if found is not None and found.st_size == 0:
                os.replace(temp, target)
            return
        try:
            os.link(temp, target)
        except FileExistsError:
            return  # another process published its file first: that one is used
        except OSError:
            if not target.exists():  # a file system without hard links
                os.replace(temp, target)

    try:
        yield temp, publish
    finally:
        for suffix in SIDE_FILES:
            with suppress(OSError):
                os.unlink(f"{temp}{suffix}")
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the new directory entry durable (the file's contents already are)."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def split_sql(script: str) -> list[str]:
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


@lru_cache(maxsize=8)
def expected_schema(migrations: tuple[Migration, ...]) -> dict[str, frozenset[str]]:
    """Table and index name -> its columns (empty for indexes), as the migrations
    build them: computed by running them on an in-memory database."""
    conn = sqlite3.connect(":memory:")
    try:
        for migration in migrations:
            for statement in split_sql(migration.sql):
                conn.execute(statement)
        return _schema(lambda sql: conn.execute(sql).fetchall())
    finally:
        conn.close()


def missing_schema(conn: SharedConnection, migrations: Sequence[Migration]) -> list[str]:
    """What the file lacks of the schema: `table transitions`, `column jobs.state`..."""
    have = _schema(lambda sql: conn.execute(sql).fetchall())
    missing: list[str] = []
    for name, columns in sorted(expected_schema(tuple(migrations)).items()):
        kind, _, bare = name.partition(" ")
        if name not in have:
            missing.append(f"{kind} {bare}")
            continue
        missing += [f"column {bare}.{c}" for c in sorted(columns - have[name])]
    return missing


def _schema(query: Callable[[str], list[tuple[object, ...]]]) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    rows = query(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index')"
        " AND name NOT LIKE 'sqlite_%'"
    )
    for kind, name in rows:
        columns: frozenset[str] = frozenset()
        if kind == "table":
            columns = frozenset(str(r[1]) for r in query(f'PRAGMA table_info("{name}")'))
        found[f"{kind} {name}"] = columns
    return found
