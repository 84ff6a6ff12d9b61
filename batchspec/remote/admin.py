"""What `batchspec state pull|push|lock-info|break-lock|versions|restore` do.

Each function works on one remote location and returns plain data for the
CLI to print. Everything that writes the remote state holds its lock, and
everything done *to* the state rather than through it (a lock broken, a
generation restored, a file pushed over it) is written to the state's own
audit log before the push, so `batchspec history --audit` shows it
wherever the state is read.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from batchspec.errors import RemoteStateError, StateError
from batchspec.remote.lock import RemoteLock
from batchspec.remote.protocol import HeldLock, StateObject
from batchspec.remote.session import RemoteSession
from batchspec.remote.workcopy import FileMeta, meta_of_file
from batchspec.state.store import StateStore


@dataclass(frozen=True)
class RemoteStatus:
    """What `lock-info` shows: the lock, the live state, the working copy."""

    url: str
    lock: HeldLock | None
    state: StateObject | None
    working_copy: Path
    working_generation: int | None


def status(session: RemoteSession) -> RemoteStatus:
    """The lock and the live state of a remote location (nothing is changed)."""
    base = session.copy.base
    return RemoteStatus(
        url=str(session.location),
        lock=session.backend.read_lock(),
        state=session.backend.stat_state(),
        working_copy=session.copy.path,
        working_generation=base.generation if base is not None else None,
    )


def pull_copy(session: RemoteSession, dest: Path, *, force: bool = False) -> StateObject:
    """Download the live generation to `dest` (no lock: a copy to look at or keep)."""
    if dest.exists() and not force:
        raise StateError(f"{dest} exists; nothing was written", hint="pass --force to replace it")
    remote = session.backend.stat_state()
    if remote is None:
        raise RemoteStateError(f"{session.location} holds no state yet")
    with _temp_dir() as temp:
        path = temp / "state.db"
        session.backend.download_state(remote.generation, path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return remote


def sync_working_copy(session: RemoteSession) -> StateObject | None:
    """Under the lock, bring the working copy in step (pull, or push what a killed
    run left unpushed); the live state afterwards."""
    with _locked(session, "state pull"):
        session.copy.sync()
        return session.backend.stat_state()


def push_file(
    session: RemoteSession, source: Path, *, force: bool, actor: str
) -> StateObject | None:
    """Make `source` (a local state file) the remote state, under the lock.

    Refused without `force` when the remote holds another state (another
    lineage) or a newer serial of this one: pushing would hide its writes
    (they stay restorable either way: the replaced generation is kept)."""
    meta = _meta_of(source)
    with _locked(session, "state push"):
        remote = session.backend.stat_state()
        if remote is not None and not force:
            _check_replaceable(session, remote, meta)
        copy = session.copy
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src:
            copy.install(src, remote)
        _audit_and_push(
            session,
            "state-push",
            f"{source} (lineage {meta.lineage}, serial {meta.serial}) pushed over"
            f" {_generation(remote)}",
            actor,
        )
        return session.backend.stat_state()


def break_lock(session: RemoteSession, *, lock_id: str | None, actor: str) -> HeldLock:
    """Break the lock (only the one named by `lock_id`, when given), record the
    break in the audit log, and release. Returns the lock that was broken."""
    held = session.backend.read_lock()
    if held is None:
        raise StateError(f"{session.location} is not locked; nothing to break")
    if lock_id is not None and held.record.id != lock_id:
        raise StateError(
            f"{session.location} is locked by lock id {held.record.id}, not {lock_id}:"
            f" {held.record.describe(session.lock.now())}",
            hint="check `batchspec state lock-info`; nothing was broken",
        )
    lock = session.lock
    lock.purpose = "state break-lock"
    lock.take_over(held)  # atomic: fails if the lock changed since it was read
    try:
        session.copy.sync()
        _audit_and_push(
            session,
            "remote-lock-break",
            f"lock of {session.location} broken on request; it was held by"
            f" {held.record.describe(lock.now())}",
            actor,
        )
    finally:
        lock.release()
    return held


def versions(session: RemoteSession) -> list[StateObject]:
    """Every generation that can be restored, newest first."""
    return session.backend.versions()


def restore(session: RemoteSession, generation: int, *, actor: str) -> StateObject | None:
    """Make a listed earlier generation the live state again (a new generation;
    the one it replaces is kept like any other)."""
    found = [v for v in session.backend.versions() if v.generation == generation]
    if not found:
        raise StateError(
            f"{session.location} has no generation {generation} to restore",
            hint="`batchspec state versions` lists them",
        )
    chosen = next((v for v in found if v.kept_as is None), found[0])
    with _locked(session, "state restore"), _temp_dir() as temp:
        remote = session.backend.stat_state()
        path = temp / "state.db"
        session.backend.fetch_version(chosen, path)
        _meta_of(path)
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as src:
            session.copy.install(src, remote)
        _audit_and_push(
            session,
            "state-restore",
            f"generation {generation} restored over {_generation(remote)}",
            actor,
        )
        return session.backend.stat_state()


# --- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(session: RemoteSession, purpose: str) -> Iterator[RemoteLock]:
    session.lock.purpose = purpose
    session.lock.acquire(wait=session.wait)
    try:
        yield session.lock
    finally:
        session.lock.release()


@contextlib.contextmanager
def _temp_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="batchspec-state-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _audit_and_push(session: RemoteSession, kind: str, message: str, actor: str) -> None:
    """Write one audit entry into the working copy and push it (under the lock)."""
    path = session.copy.path
    store = StateStore.open(path, create=True)
    try:
        store.log_audit(kind, message, actor=actor)
        session.copy.push(store.connection)
    finally:
        store.close()


def _meta_of(path: Path) -> FileMeta:
    meta = meta_of_file(path)
    if meta is None:
        raise StateError(f"{path} is not a batchspec state file; nothing was pushed")
    return meta


def _check_replaceable(session: RemoteSession, remote: StateObject, meta: FileMeta) -> None:
    if remote.lineage is not None and remote.lineage != meta.lineage:
        raise StateError(
            f"{session.location} holds another state (lineage {remote.lineage}, this file"
            f" has {meta.lineage}); nothing was pushed",
            hint="pass --force to replace it (the replaced generation is kept and"
            " restorable: `batchspec state versions`)",
        )
    if remote.serial is not None and remote.serial > meta.serial:
        raise StateError(
            f"{session.location} is newer than this file (serial {remote.serial} >"
            f" {meta.serial}); pushing would hide its writes; nothing was pushed",
            hint="pull it first (`batchspec state pull`), or pass --force",
        )


def _generation(remote: StateObject | None) -> str:
    return f"generation {remote.generation}" if remote is not None else "no state"
