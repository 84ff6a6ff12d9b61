"""The remote state's lock: one object, created only if absent, renewed while held.

Taking it is one create with a create-if-absent precondition
(`ifGenerationMatch=0` on Cloud Storage): of two writers racing, exactly one
create succeeds and the other gets 412 and reads who holds it. The holder
rewrites the object every third of its TTL, each time guarded by the
generation it last wrote, so a renewal after someone broke the lock fails
instead of stealing it back, and the holder learns it lost the lock before
its next action. Releasing is a delete guarded the same way.

Unlike the SQLite leases of a local state file, a remote lock is never taken
over silently, even when it expired: its holder may be a CI runner on
another machine whose process table nobody here can see. A stale lock is
reported with its owner and age; `batchspec state break-lock` breaks it, on
request, and the break goes to the audit log.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from batchspec.errors import RemoteLockedError, RemoteStateError, StateConflictError
from batchspec.remote.protocol import HeldLock, LockRecord, RemoteBackend
from batchspec.state.heartbeat import Heartbeat
from batchspec.state.lease import Holder, this_process
from batchspec.state.records import utc_now

DEFAULT_TTL = 60.0


class RemoteLock(Heartbeat[RemoteLockedError]):
    """Acquire, renew (in a thread) and release the lock of one remote state."""

    def __init__(
        self,
        backend: RemoteBackend,
        *,
        purpose: str,
        holder: Holder | None = None,
        ttl: float = DEFAULT_TTL,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend = backend
        self.purpose = purpose
        self.holder = holder or this_process()
        self.ttl = max(3.0, ttl)
        self.now = now
        self._sleep = sleep
        self.id = uuid.uuid4().hex[:16]
        self.generation: int | None = None
        self.record: LockRecord | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        """True between a successful acquire and release (unless lost)."""
        return self.generation is not None and self.lost is None

    def _record(self, acquired: datetime | None = None) -> LockRecord:
        moment = self.now()
        return LockRecord(
            id=self.id,
            owner=self.holder.owner,
            host=self.holder.host,
            pid=self.holder.pid,
            command=self.holder.command,
            purpose=self.purpose,
            acquired_at=acquired or moment,
            heartbeat_at=moment,
            expires_at=moment + timedelta(seconds=self.ttl),
        )

    def acquire(self, *, wait: float = 0.0, poll: float = 1.0) -> None:
        """Take the lock, waiting up to `wait` seconds for the holder to release it."""
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            record = self._record()
            try:
                generation = self.backend.create_lock(record)
            except StateConflictError:
                held = self.backend.read_lock()
                if held is not None and held.record.id == self.id:
                    self._hold(held.generation, held.record)  # our create landed unanswered
                    return
                if held is not None and time.monotonic() >= deadline:
                    raise locked_error(self.backend.url, held, self.now()) from None
                if held is not None:
                    self._sleep(min(poll, max(0.05, deadline - time.monotonic())))
                continue
            self._hold(generation, record)
            return

    def take_over(self, held: HeldLock) -> None:
        """Replace `held` (a lock someone else holds) by ours, atomically: if it
        changed since it was read, nothing is replaced (StateConflictError)."""
        record = self._record()
        generation = self.backend.replace_lock(record, if_generation=held.generation)
        self._hold(generation, record)

    def _hold(self, generation: int, record: LockRecord) -> None:
        self.generation, self.record = generation, record
        self._start_beats("batchspec-lock")

    def _beat(self) -> RemoteLockedError | None:
        try:
            self.renew()
        except RemoteLockedError as exc:
            return exc
        except RemoteStateError:
            record = self.record
            if record is not None and record.stale(self.now()):
                return RemoteLockedError(
                    f"could not renew the lock of {self.backend.url} before it expired;"
                    " another process may have broken it",
                    hint="run the command again: it reads the state afresh",
                )
        return None

    def renew(self) -> None:
        """Push the expiry out by one TTL (guarded by the generation we hold)."""
        with self._guard:
            if self.generation is None or self.record is None:
                return
            record = self._record(self.record.acquired_at)
            try:
                generation = self.backend.replace_lock(record, if_generation=self.generation)
            except StateConflictError:
                now = self.backend.read_lock()
                who = now.record.describe(self.now()) if now is not None else "nobody (deleted)"
                raise RemoteLockedError(
                    f"the lock of {self.backend.url} was broken; it is now held by {who}",
                    hint="this run stops before its next action; what it wrote stays in the"
                    " local working copy and is not pushed over the other writer's state",
                ) from None
            self.generation, self.record = generation, record

    def release(self) -> None:
        """Stop renewing and delete the lock object if it is still ours."""
        self._stop_beats(timeout=10)
        with self._guard:
            if self.generation is None:
                return
            generation, self.generation = self.generation, None
            if self.lost is not None:
                return
            # Broken meanwhile: the lock is someone else's now; leave it.
            with contextlib.suppress(StateConflictError):
                self.backend.delete_lock(if_generation=generation)


def locked_error(url: str, held: HeldLock, now: datetime) -> RemoteLockedError:
    """The message for a lock someone holds: live (wait) or stale (break it, if gone)."""
    record = held.record
    if record.stale(now):
        return RemoteLockedError(
            f"remote state {url} is locked, and its holder stopped renewing the lock:"
            f" {record.describe(now)}",
            hint="if that process is gone (killed, its runner cancelled), break the lock:"
            f" `batchspec state break-lock --state {url} --id {record.id}` (recorded in the"
            " audit log); batchspec never breaks it by itself",
        )
    return RemoteLockedError(
        f"remote state {url} is locked: {record.describe(now)}",
        hint="wait for it to finish (--lock-timeout SECONDS waits); `batchspec state"
        f" lock-info --state {url}` shows the lock",
    )
