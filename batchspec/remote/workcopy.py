"""The local working copy of a remote state: pulled before a write, pushed after.

batchspec always works on an SQLite file on local disk (the embedded store
stays the one implementation of the recording protocol); remote state is
that file kept in a bucket. Under the lock, a writer:

1. *syncs*: compares the working copy with the remote object, using a
   sidecar (`state.db.remote.json`: the generation and serial it was last
   pulled or pushed at). An unchanged copy is used as is; a stale one is
   replaced by the remote generation; a copy holding writes that never
   reached the bucket (the run that made them was killed) is pushed first
   if the remote did not move, or set aside (`state.db.unpushed-TIME`,
   never deleted) if someone else wrote meanwhile;
2. works on the file (a command, a controller pass);
3. *pushes*: snapshots the file with SQLite's backup API (consistent while
   open, and never a raw read of a live database file), keeps a copy of the
   generation it replaces in `history/`, and uploads with
   `ifGenerationMatch=<the generation it pulled>`. A failed precondition is
   never retried: the writes stay in the working copy and the error says to
   run the command again, which reads the new state and plans again.

A download or an upload is all-or-nothing on both sides: the object store
commits whole objects, and a download lands in a temporary file that
replaces the working copy in one rename after its checksum (verified by the
client) and its SQLite header were checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from batchspec.errors import RemoteStateError, StateConflictError
from batchspec.remote.protocol import (
    META_DIGEST,
    META_LINEAGE,
    META_PUSH,
    META_SERIAL,
    META_WRITER,
    RemoteBackend,
    StateObject,
)
from batchspec.state.records import to_text, utc_now

SIDECAR_SUFFIX = ".remote.json"
HISTORY_ENV = "BATCHSPEC_STATE_HISTORY"
DEFAULT_HISTORY = 20
_SIDE_FILES = ("-wal", "-shm", "-journal")


class Backupable(Protocol):
    """A connection SQLite's online backup can copy from (the store's own)."""

    def backup(self, target: sqlite3.Connection) -> None: ...


@dataclass(frozen=True)
class Base:
    """What the working copy was last in step with: a generation, its serial and
    the digest of its content."""

    url: str
    generation: int
    lineage: str | None
    serial: int | None
    digest: str | None = None


@dataclass(frozen=True)
class FileMeta:
    """A state file's identity, write counter and content digest."""

    lineage: str
    serial: int
    digest: str


def file_meta(conn: sqlite3.Connection) -> FileMeta | None:
    """Lineage, serial and digest of a state database (None when it is not one)."""
    try:
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('lineage', 'serial')"))
    except sqlite3.DatabaseError:
        return None
    if "lineage" not in rows:
        return None
    return FileMeta(str(rows["lineage"]), int(rows.get("serial") or 0), content_digest(conn))


def content_digest(conn: sqlite3.Connection) -> str:
    """A digest of what the state records, leaving out what every writer changes
    without recording anything: lease rows and the write counter. A command that
    only took and gave back its lease (an apply with no changes) then pushes
    nothing, and leaves no new generation behind."""
    digest = hashlib.sha256()
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        if row[0] != "lease"
    ]
    for table in tables:
        digest.update(f"\0{table}\0".encode())
        where = " WHERE key != 'serial'" if table == "meta" else ""
        # Sorted here, not by rowid: some tables have none (WITHOUT ROWID).
        for text in sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"{where}')):
            digest.update(text.encode())
    return digest.hexdigest()


class WorkingCopy:
    """One remote state's local file, its sidecar, and the moves between them."""

    def __init__(
        self,
        backend: RemoteBackend,
        path: Path,
        *,
        writer: str,
        log: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.backend = backend
        self.path = path
        self.writer = writer
        self.log = log
        self.base: Base | None = self._read_sidecar()

    # --- the sidecar -------------------------------------------------------------------

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + SIDECAR_SUFFIX)

    def _read_sidecar(self) -> Base | None:
        try:
            data = json.loads(self.sidecar.read_text(encoding="utf-8"))
            base = Base(
                str(data["url"]),
                int(data["generation"]),
                data.get("lineage"),
                data.get("serial"),
                data.get("digest"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return base if base.url == self.backend.url else None

    def _write_sidecar(self, generation: int, meta: FileMeta | None) -> None:
        self.base = Base(
            self.backend.url,
            generation,
            meta.lineage if meta else None,
            meta.serial if meta else None,
            meta.digest if meta else None,
        )
        data = {
            "url": self.base.url,
            "generation": generation,
            "lineage": self.base.lineage,
            "serial": self.base.serial,
            "digest": self.base.digest,
            "at": to_text(utc_now()),
        }
        temp = self.sidecar.with_name(self.sidecar.name + ".tmp")
        temp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temp, self.sidecar)

    # --- syncing before a write --------------------------------------------------------

    def sync(self) -> None:
        """Bring the working copy in step with the remote (held under the lock)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remote = self.backend.stat_state()
        local = self._local_meta()
        if local is None:
            self._pull(remote)
            return
        if remote is not None and (remote.lineage, remote.digest) == (local.lineage, local.digest):
            self._write_sidecar(remote.generation, local)  # in step (or an upload that landed)
            return
        if self.base is None:  # a file nobody pulled here: never pushed over a remote state
            if remote is not None:
                self._set_aside("it was not pulled from this remote state")
                self._pull(remote)
                return
            self._write_sidecar(0, None)
        base = self.base
        assert base is not None
        unpushed = (local.lineage, local.digest) != (base.lineage, base.digest)
        remote_generation = remote.generation if remote is not None else 0
        if not unpushed:
            if remote_generation != base.generation:
                self._pull(remote)
            return
        if remote_generation == base.generation:
            self.log(
                f"found state writes in {self.path} that never reached {self.backend.url}"
                f" (serial {base.serial or 0} -> {local.serial}; an earlier run stopped before"
                " pushing): pushing them now"
            )
            self._push_file(local)
            return
        self._set_aside(
            f"it holds writes (serial {local.serial}) made after generation {base.generation},"
            f" and {self.backend.url} moved on to generation {remote_generation} meanwhile"
        )
        self._pull(remote)

    def _local_meta(self) -> FileMeta | None:
        """Lineage and serial of the working copy, through SQLite (which also folds in
        a write-ahead log a killed run left behind); None when there is no usable file."""
        if not self.path.is_file():
            return None
        try:
            with contextlib.closing(sqlite3.connect(str(self.path))) as conn:
                return file_meta(conn)
        except sqlite3.OperationalError as exc:  # busy, unreadable, no space: not damage
            raise RemoteStateError(f"cannot read the working copy {self.path}: {exc}") from exc
        except sqlite3.DatabaseError:
            self._set_aside("it is not a readable SQLite file")
            return None

    def _pull(self, remote: StateObject | None) -> None:
        """Replace the working copy by the remote generation (or remove it: no state yet)."""
        if remote is None:
            self._remove_working()
            self._write_sidecar(0, None)
            return
        with self._temp_beside() as temp:
            self.backend.download_state(remote.generation, temp)
            meta = _checked_meta(temp, f"{self.backend.url} generation {remote.generation}")
            self._remove_working()
            os.replace(temp, self.path)
        self._write_sidecar(remote.generation, meta)

    def _set_aside(self, why: str) -> None:
        """Move the working copy out of the way (kept, never deleted) and say so."""
        stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
        kept = self.path.with_name(f"{self.path.name}.unpushed-{stamp}")
        with contextlib.suppress(OSError), contextlib.closing(sqlite3.connect(str(self.path))) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        os.replace(self.path, kept)
        for suffix in _SIDE_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}{suffix}", f"{kept}{suffix}")
        self.log(
            f"warning: set the working copy aside as {kept}: {why}. Nothing in it was"
            f" pushed; `batchspec status --state {kept}` shows it. Jobs it recorded carry"
            " batchspec's labels: the next apply adopts them instead of submitting again."
        )

    def install(self, source: Backupable, remote: StateObject | None) -> None:
        """Make a snapshot of `source` the working copy, to be pushed over `remote`
        (`state push FILE`, `state restore`)."""
        with self._temp_beside() as temp:
            _snapshot(source, temp)
            self._remove_working()
            os.replace(temp, self.path)
        self._write_sidecar(remote.generation if remote is not None else 0, None)

    def _remove_working(self) -> None:
        for suffix in ("", *_SIDE_FILES):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")

    # --- pushing -----------------------------------------------------------------------

    def push(self, source: Backupable) -> bool:
        """Upload a consistent snapshot of `source` if it changed since the base;
        returns True when a new generation was written."""
        with self._temp_beside() as temp:
            meta = _snapshot(source, temp)
            if meta is None:
                return False
            if self.base is not None and (meta.lineage, meta.digest) == (
                self.base.lineage,
                self.base.digest,
            ):
                return False
            self._upload(temp, meta)
            return True

    def _push_file(self, meta: FileMeta) -> None:
        with (
            contextlib.closing(sqlite3.connect(str(self.path))) as conn,
            self._temp_beside() as temp,
        ):
            _snapshot(conn, temp)
            self._upload(temp, meta)

    def _upload(self, snapshot: Path, meta: FileMeta) -> None:
        base = self.base.generation if self.base is not None else 0
        push_id = uuid.uuid4().hex
        metadata = {
            META_LINEAGE: meta.lineage,
            META_SERIAL: str(meta.serial),
            META_DIGEST: meta.digest,
            META_PUSH: push_id,
            META_WRITER: self.writer,
        }
        try:
            if base:  # kept first: gone without versioning once it is replaced
                self.backend.keep_copy(StateObject(base, 0, None, None, None))
            generation = self.backend.upload_state(snapshot, if_generation=base, meta=metadata)
        except StateConflictError:
            now = self.backend.stat_state()
            if now is None or now.push_id != push_id:
                raise self._conflict(base, now) from None
            generation = now.generation  # a retried upload: the first attempt had landed
        self._write_sidecar(generation, meta)
        self._prune()

    def _conflict(self, base: int, now: StateObject | None) -> StateConflictError:
        if now is None:
            moved = "was deleted"
        else:
            who = f" by {now.writer}" if now.writer else ""
            moved = f"is at generation {now.generation} (written{who})"
        return StateConflictError(
            f"{self.backend.url} changed since this run read it at generation {base}: it"
            f" {moved}. Nothing was overwritten; this run's writes stay in {self.path}",
            hint="run the command again: it reads the new state and plans again (jobs this"
            " run submitted carry their fingerprint labels and are adopted, not submitted twice)",
        )

    def _prune(self) -> None:
        keep = _history_size()
        try:
            self.backend.prune_history(keep)
        except RemoteStateError as exc:
            self.log(f"warning: could not prune old state copies: {exc.message}")

    @contextlib.contextmanager
    def _temp_beside(self) -> Iterator[Path]:
        """A temporary file next to the working copy (same file system: one rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        os.close(handle)
        temp = Path(name)
        try:
            yield temp
        finally:
            for suffix in ("", *_SIDE_FILES):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{temp}{suffix}")


def _snapshot(source: Backupable, dest: Path) -> FileMeta | None:
    """A consistent copy of `source` in `dest`, without lease rows (the remote lock is
    the lease between machines; a lease row would only describe this process)."""
    with contextlib.closing(sqlite3.connect(str(dest), isolation_level=None)) as target:
        source.backup(target)
        with contextlib.suppress(sqlite3.DatabaseError):
            target.execute("DELETE FROM lease")
        target.execute("PRAGMA journal_mode = DELETE")
        return file_meta(target)


def meta_of_file(path: Path) -> FileMeta | None:
    """The meta of a state file on disk, read without writing; None when the
    file is not a batchspec state file."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return file_meta(conn)
    except sqlite3.DatabaseError:
        return None


def _checked_meta(path: Path, what: str) -> FileMeta:
    """The meta of a downloaded state file; a clear error when it is not one."""
    meta = meta_of_file(path)
    if meta is None:
        raise RemoteStateError(
            f"{what} is not a batchspec state file",
            hint="restore an earlier generation (`batchspec state versions`, then"
            " `batchspec state restore GENERATION`)",
        )
    return meta


def _history_size() -> int:
    text = os.environ.get(HISTORY_ENV, "").strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    return DEFAULT_HISTORY
