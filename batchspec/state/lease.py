"""Leases: one actor at a time per state file.

Two leases, both rows in the state store (owner, host, pid, heartbeat,
expiry) written in `BEGIN IMMEDIATE` transactions, so taking one is atomic
across processes:

* the **writer** lease is held by whoever acts on jobs: an `apply` for its
  whole run, a controller for each pass. Two writers never act at once.
* the **controller** lease is held by `reconcile` for its lifetime, so a
  second controller is refused with a clear message, while an `apply` (from
  CI, say) still gets its turn between the controller's passes.

A lease is taken over without asking when it is provably stale: its expiry
passed, or its holder ran on this host and that process no longer exists (a
`kill -9`ed apply must not block the next one for a whole TTL). Anything else
needs `--break-lease`, and every take-over or break is written to the audit
log with who did it and whom it displaced.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from batchspec.errors import LeaseHeldError, StateError
from batchspec.state.base import decode_time, from_row
from batchspec.state.heartbeat import Heartbeat
from batchspec.state.records import LeaseInfo, to_text
from batchspec.state.store import StateStore

WRITER_LEASE = "writer"
CONTROLLER_LEASE = "controller"
DEFAULT_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Holder:
    """Who wants the lease: a unique id plus what a human needs to find it."""

    owner_id: str
    owner: str
    host: str
    pid: int
    command: str


def this_process(command: str | None = None) -> Holder:
    """A holder describing the running process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    host = socket.gethostname()
    pid = os.getpid()
    return Holder(
        owner_id=uuid.uuid4().hex,
        owner=f"{user}@{host} pid {pid}",
        host=host,
        pid=pid,
        command=command or " ".join(["batchspec", *sys.argv[1:]])[:200],
    )


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _moment(value: object, what: str, path: Path | None) -> datetime:
    moment = decode_time(value, what, path)
    if moment is None:
        raise StateError(f"state file {path}: {what} is missing")
    return moment


_LEASE_COLUMNS = "owner_id, owner, host, pid, command, acquired_at, heartbeat_at, expires_at"
_LEASE_DECODE = dict.fromkeys(("acquired_at", "heartbeat_at", "expires_at"), _moment)


@dataclass(eq=False)
class Lease:
    """Acquire, renew and release the lease on one state store (`sleep` and
    `alive` are injected so tests wait without sleeping and fake dead holders)."""

    store: StateStore
    holder: Holder
    _: KW_ONLY
    ttl: float = DEFAULT_TTL_SECONDS
    sleep: Callable[[float], None] = time.sleep
    alive: Callable[[int], bool] = pid_alive
    name: str = WRITER_LEASE
    held: bool = field(default=False, init=False)

    def current(self) -> LeaseInfo | None:
        """The lease row, if anyone holds it."""
        row = self.store.connection.execute(
            f"SELECT {_LEASE_COLUMNS} FROM lease WHERE name = ?", (self.name,)
        ).fetchone()
        if row is None:
            return None
        where, path = f"{self.name} lease", self.store.path
        return from_row(LeaseInfo, _LEASE_COLUMNS, row, _LEASE_DECODE, where=where, path=path)

    def acquire(self, *, wait: float = 0.0, break_lease: bool = False, poll: float = 0.5) -> None:
        """Take the lease, waiting up to `wait` seconds for a live holder to finish."""
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            info = self._try_acquire(break_lease=break_lease)
            if info is None:
                self.held = True
                return
            if time.monotonic() >= deadline:
                now = self.store.now()
                what = (
                    "another controller is running"
                    if self.name == CONTROLLER_LEASE
                    else (f"state {self.store.path} is locked")
                )
                raise LeaseHeldError(
                    f"{what}: {self.name} lease held by {info.describe(now)}",
                    hint="wait for it to finish (or pass --lock-timeout SECONDS to wait);"
                    " if that process is gone for good, rerun with --break-lease"
                    " (the break is logged)",
                )
            self.sleep(min(poll, max(0.01, deadline - time.monotonic())))

    def _try_acquire(self, *, break_lease: bool) -> LeaseInfo | None:
        """Returns None when taken, else the live lease that blocks us."""
        seen = self.current()
        if (
            seen is not None
            and seen.owner_id != self.holder.owner_id
            and self._takeover_reason(seen, self.store.now(), break_lease) is None
        ):
            return seen  # held by a live owner: no write while we wait
        with self.store.transaction() as conn:
            info = self.current()
            now = self.store.now()
            if info is not None and info.owner_id != self.holder.owner_id:
                why = self._takeover_reason(info, now, break_lease)
                if why is None:
                    return info
                conn.execute(
                    "INSERT INTO audit(at, actor, kind, message) VALUES (?, ?, ?, ?)",
                    (
                        to_text(now),
                        self.holder.owner,
                        "lease-break" if break_lease else "lease-takeover",
                        f"{self.name} lease: {why}; it was held by {info.describe(now)}",
                    ),
                )
            self._write(acquired=info.acquired_at if info is not None and self._mine(info) else now)
            return None

    def _mine(self, info: LeaseInfo | None) -> bool:
        return info is not None and info.owner_id == self.holder.owner_id

    def _takeover_reason(self, info: LeaseInfo, now: datetime, break_lease: bool) -> str | None:
        if break_lease:
            return f"lease broken on request (--break-lease) by {self.holder.owner}"
        if info.expires_at <= now:
            return "lease expired (no heartbeat)"
        if info.host == self.holder.host and not self.alive(info.pid):
            return f"lease holder pid {info.pid} on this host is no longer running"
        return None

    def _write(self, *, acquired: datetime) -> None:
        now = self.store.now()
        self.store.connection.execute(
            "INSERT INTO lease(name, owner_id, owner, host, pid, command, acquired_at,"
            " heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET owner_id = excluded.owner_id,"
            " owner = excluded.owner, host = excluded.host, pid = excluded.pid,"
            " command = excluded.command, acquired_at = excluded.acquired_at,"
            " heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at",
            (
                self.name,
                self.holder.owner_id,
                self.holder.owner,
                self.holder.host,
                self.holder.pid,
                self.holder.command,
                to_text(acquired),
                to_text(now),
                to_text(now + timedelta(seconds=self.ttl)),
            ),
        )

    def renew(self) -> None:
        """Heartbeat. Raises LeaseHeldError when someone took the lease from us."""
        with self.store.transaction():
            info = self.current()
            if not self._mine(info):
                self.held = False
                now = self.store.now()
                who = info.describe(now) if info else "nobody (it was released or broken)"
                raise LeaseHeldError(
                    f"lost the {self.name} lease on {self.store.path}: now held by {who}",
                    hint="another batchspec broke or took over the lease; stopping so that"
                    " two controllers never act at once",
                )
            assert info is not None
            self._write(acquired=info.acquired_at)

    def release(self) -> None:
        """Give the lease back (only if we still hold it)."""
        if not self.held:
            return
        with contextlib.suppress(StateError), self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM lease WHERE name = ? AND owner_id = ?",
                (self.name, self.holder.owner_id),
            )
        self.held = False


class LeaseKeeper(Heartbeat[LeaseHeldError]):
    """Renews a held lease from a background thread during long passes.

    It renews through the store's own connection (shared by every thread of
    the process, under its lock): opening a second one would be a second
    owner of the file in this process, and re-opening it on every lease was
    how the controller once lost its locks and its write-ahead log. When a
    renewal finds the lease taken, `lost` is set and `check()` raises, so the
    controller stops before its next action.
    """

    def __init__(
        self, store: StateStore, holder: Holder, *, ttl: float, name: str = WRITER_LEASE
    ) -> None:
        self._lease = Lease(store, holder, ttl=ttl, name=name)
        self._lease.held = True
        self.ttl = ttl

    def start(self) -> None:
        """Begin heartbeating every third of the TTL."""
        self._start_beats("batchspec-lease")

    def _beat(self) -> LeaseHeldError | None:
        try:
            self._lease.renew()
        except LeaseHeldError as exc:
            return exc
        except (StateError, sqlite3.Error):
            pass  # busy or full: the next beat tries again (stop() ends the loop)
        return None

    def stop(self) -> None:
        """Stop heartbeating (the owner releases the lease itself)."""
        self._stop_beats(timeout=5)


@contextlib.contextmanager
def holding(
    store: StateStore,
    holder: Holder,
    *,
    name: str = WRITER_LEASE,
    ttl: float = DEFAULT_TTL_SECONDS,
    wait: float = 0.0,
    break_lease: bool = False,
    on_break: Callable[[LeaseInfo], None] | None = None,
) -> Iterator[Callable[[], None]]:
    """Hold lease `name` on `store` for the block, renewed by a `LeaseKeeper`.

    The one way `apply`, `reconcile` and the Pulumi provider take a lease:
    acquire (waiting up to `wait` seconds for a live holder; `break_lease`
    takes it from one, and `on_break` hears whom it displaced), heartbeat
    while the block runs, release on the way out however it ends. Yields a
    guard that raises LeaseHeldError once the lease was lost, to be called
    before each action."""
    lease = Lease(store, holder, ttl=ttl, name=name)
    before = lease.current() if break_lease else None
    lease.acquire(wait=wait, break_lease=break_lease)
    keeper: LeaseKeeper | None = None
    try:
        if before is not None and before.owner_id != holder.owner_id and on_break is not None:
            on_break(before)
        if store.path is not None:
            keeper = LeaseKeeper(store, holder, ttl=ttl, name=name)
            keeper.start()
        yield keeper.check if keeper is not None else _never_lost
    finally:
        if keeper is not None:
            keeper.stop()
        lease.release()


def _never_lost() -> None:
    """The guard of a lease on an in-memory store: nobody else can take it."""
