"""Where remote state lives: `gs://bucket/prefix`, the objects under it, and the
local working copy that mirrors it.

Like Terraform's `gcs` backend, a prefix holds one state and its lock:

    gs://BUCKET/PREFIX/state.db              the state (an SQLite file)
    gs://BUCKET/PREFIX/state.lock            the lock object (JSON), while held
    gs://BUCKET/PREFIX/history/state.db.GEN  the generations it replaced (newest kept)

The working copy is an ordinary state file under `.batchspec/remote/BUCKET/
PREFIX/state.db` (or `$BATCHSPEC_REMOTE_CACHE`), with a small JSON sidecar
recording which generation it was pulled at, so a write that never reached
the bucket (a killed run) is found and pushed by the next one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from batchspec.errors import RemoteStateError
from batchspec.state.paths import REMOTE_SCHEMES

SCHEMES = REMOTE_SCHEMES
STATE_OBJECT = "state.db"
LOCK_OBJECT = "state.lock"
HISTORY_FOLDER = "history"
CACHE_ENV = "BATCHSPEC_REMOTE_CACHE"
DEFAULT_CACHE = Path(".batchspec") / "remote"
# Cloud Storage's bucket naming rules (https://cloud.google.com/storage/docs/buckets#naming).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


def is_remote(location: str | os.PathLike[str] | None) -> bool:
    """True for a remote state location (`gs://...`)."""
    return location is not None and str(location).startswith(SCHEMES)


@dataclass(frozen=True)
class RemoteLocation:
    """A parsed `gs://bucket/prefix`."""

    scheme: str
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, text: str) -> RemoteLocation:
        """`gs://bucket[/prefix]`, checked (a clear error, not a 400 later)."""
        scheme = next((s for s in SCHEMES if text.startswith(s)), None)
        if scheme is None:
            raise RemoteStateError(
                f"{text!r} is not a remote state location",
                hint="write gs://BUCKET/PREFIX, e.g. gs://acme-batchspec/prod",
            )
        bucket, _, prefix = text[len(scheme) :].partition("/")
        if not _BUCKET.match(bucket):
            raise RemoteStateError(
                f"{text}: {bucket!r} is not a valid Cloud Storage bucket name",
                hint="bucket names are 3-63 characters (222 with dots): lowercase letters,"
                " digits, '-', '_' and '.'",
            )
        prefix = prefix.strip("/")
        if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
            raise RemoteStateError(
                f"{text}: the prefix has an empty, '.' or '..' part",
                hint="write gs://BUCKET/PREFIX with plain folder names, e.g. gs://b/team/prod",
            )
        return cls(scheme, bucket, prefix)

    def __str__(self) -> str:
        return f"{self.scheme}{self.bucket}/{self.prefix}".rstrip("/")

    def object(self, leaf: str) -> str:
        """The object name of `leaf` under the prefix."""
        return f"{self.prefix}/{leaf}" if self.prefix else leaf

    @property
    def state_object(self) -> str:
        """The state's object name."""
        return self.object(STATE_OBJECT)

    @property
    def lock_object(self) -> str:
        """The lock's object name."""
        return self.object(LOCK_OBJECT)

    @property
    def history_prefix(self) -> str:
        """Where the replaced generations are kept."""
        return self.object(f"{HISTORY_FOLDER}/{STATE_OBJECT}.")

    def history_object(self, generation: int) -> str:
        """The kept copy of one replaced generation."""
        return f"{self.history_prefix}{generation}"

    def working_copy(self) -> Path:
        """The local working copy of this state."""
        root = Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)
        parts = [self.bucket, *(self.prefix.split("/") if self.prefix else [])]
        return root.joinpath(*parts, STATE_OBJECT)
