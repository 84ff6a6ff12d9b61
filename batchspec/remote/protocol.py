"""The small interface a remote state backend implements, and its data.

Everything above it (the lock, the working copy, the commands) speaks only
this protocol, so a second backend (S3 with conditional writes, Azure blobs
with ETags) needs one module of its own and nothing else. Its promises:

* `create_lock` succeeds for exactly one caller while no lock object exists
  (a create-if-absent precondition, never read-then-write);
* `upload_state`, `replace_lock` and `delete_lock` change the object only if
  its current generation is the one given, else raise `StateConflictError`
  and change nothing;
* a write is atomic: readers see the old object or the new one, whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from batchspec.model.limits import span_text
from batchspec.state.records import from_text, to_text

# Custom metadata carried by every state object: the SQLite file's lineage,
# serial and content digest (so a working copy can tell a descendant from a
# stranger, or a copy of itself, without a download), and the id of the push
# that wrote it (so a retried upload that did land is recognised as our own).
META_LINEAGE = "batchspec-lineage"
META_SERIAL = "batchspec-serial"
META_DIGEST = "batchspec-digest"
META_PUSH = "batchspec-push-id"
META_WRITER = "batchspec-writer"


@dataclass(frozen=True)
class StateObject:
    """One generation of the remote state, as its metadata describes it."""

    generation: int
    size: int
    updated: datetime | None
    lineage: str | None
    serial: int | None
    digest: str | None = None
    push_id: str | None = None
    writer: str | None = None
    live: bool = True
    kept_as: str | None = None  # the history copy's object name, for kept copies

    @classmethod
    def from_metadata(
        cls,
        generation: int,
        size: int,
        updated: datetime | None,
        metadata: Mapping[str, str] | None,
        **extra: object,
    ) -> StateObject:
        """Build from an object's generation, size, time and custom metadata."""
        meta = dict(metadata or {})
        serial = meta.get(META_SERIAL)
        return cls(
            generation=generation,
            size=size,
            updated=updated,
            lineage=meta.get(META_LINEAGE),
            serial=int(serial) if serial and serial.isdigit() else None,
            digest=meta.get(META_DIGEST),
            push_id=meta.get(META_PUSH),
            writer=meta.get(META_WRITER),
            **extra,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class LockRecord:
    """What the lock object says: who holds it, for what, until when."""

    id: str
    owner: str
    host: str
    pid: int
    command: str
    purpose: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    def to_json(self) -> bytes:
        """The lock object's content."""
        data = asdict(self)
        for key in ("acquired_at", "heartbeat_at", "expires_at"):
            data[key] = to_text(data[key])
        return json.dumps(data, sort_keys=True).encode()

    def describe(self, now: datetime) -> str:
        """`owner (purpose: command), held 5m, last renewed 4m ago, expired 3m ago`."""
        held = span_text((now - self.acquired_at).total_seconds())
        beat = span_text((now - self.heartbeat_at).total_seconds())
        left = (self.expires_at - now).total_seconds()
        expiry = f"expires in {span_text(left)}" if left >= 0 else f"expired {span_text(-left)} ago"
        return (
            f"{self.owner} ({self.purpose}: {self.command}), lock id {self.id}, held {held},"
            f" last renewed {beat} ago, {expiry}"
        )

    def stale(self, now: datetime) -> bool:
        """True once its holder stopped renewing it (killed, cut off, suspended)."""
        return self.expires_at <= now

    @classmethod
    def from_json(cls, raw: bytes) -> LockRecord:
        """Parse a lock object (a damaged one still names what it can)."""
        try:
            data = json.loads(raw)
            return cls(
                id=str(data["id"]),
                owner=str(data["owner"]),
                host=str(data.get("host", "")),
                pid=int(data.get("pid", 0)),
                command=str(data.get("command", "")),
                purpose=str(data.get("purpose", "")),
                acquired_at=from_text(data["acquired_at"]),  # type: ignore[arg-type]
                heartbeat_at=from_text(data["heartbeat_at"]),  # type: ignore[arg-type]
                expires_at=from_text(data["expires_at"]),  # type: ignore[arg-type]
            )
        except (ValueError, KeyError, TypeError):
            epoch = from_text("1970-01-01T00:00:00Z")
            assert epoch is not None
            return cls("unknown", "unreadable lock object", "", 0, "", "", epoch, epoch, epoch)


@dataclass(frozen=True)
class HeldLock:
    """A lock object as read: its generation (for guarded replace/delete) and record."""

    generation: int
    record: LockRecord


class RemoteBackend(Protocol):
    """Objects of one remote state: the state, its lock, its kept generations."""

    @property
    def url(self) -> str:
        """`gs://bucket/prefix`, for messages."""
        ...

    def stat_state(self) -> StateObject | None:
        """The live state object's metadata, or None when there is no state yet."""
        ...

    def download_state(self, generation: int, dest: Path) -> None:
        """Write exactly that generation's bytes to `dest` (checksums verified)."""
        ...

    def upload_state(self, src: Path, *, if_generation: int, meta: Mapping[str, str]) -> int:
        """Write `src` as the new state if the live generation is `if_generation`
        (0: only if there is none); returns the new generation."""
        ...

    def keep_copy(self, state: StateObject) -> str:
        """Copy this generation to the history folder (server side); its name."""
        ...

    def prune_history(self, keep: int) -> None:
        """Delete kept copies beyond the newest `keep`."""
        ...

    def versions(self) -> list[StateObject]:
        """The live state, its noncurrent versions and the kept copies, newest first."""
        ...

    def fetch_version(self, version: StateObject, dest: Path) -> None:
        """Write one listed version's bytes to `dest`."""
        ...

    def create_lock(self, record: LockRecord) -> int:
        """Create the lock object if none exists (else StateConflictError)."""
        ...

    def read_lock(self) -> HeldLock | None:
        """The lock object, if there is one."""
        ...

    def replace_lock(self, record: LockRecord, *, if_generation: int) -> int:
        """Rewrite the lock object if it is still that generation (renew, take over)."""
        ...

    def delete_lock(self, *, if_generation: int) -> None:
        """Delete the lock object if it is still that generation."""
        ...
