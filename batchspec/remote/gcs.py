"""Remote state on Cloud Storage, through google-cloud-storage.

Why google-cloud-storage and not gcsfs (which batchspec uses for job inputs
and outputs): the state needs generations and preconditions on every call:
create-if-absent for the lock (`ifGenerationMatch=0`), replace-if-unchanged
for the state and for renewing or releasing the lock, downloads of one exact
generation, server-side copies of one generation, listings of noncurrent
versions. google-cloud-storage takes each of those as a keyword argument
(`if_generation_match=`, `generation=`, `source_generation=`, `versions=`)
and raises `PreconditionFailed` for a 412; gcsfs reaches some of them only
through its version-aware mode and hides the 412 behind a generic error.
It also verifies each download's CRC32C and honours STORAGE_EMULATOR_HOST.

Every call is bounded (the timeout and attempts of `BATCHSPEC_STORAGE_TIMEOUT`
/ `_RETRIES`, shared with batchspec's other storage calls); only failures
that cannot have changed anything, or writes guarded by a generation, are
retried. Failures become one-line errors naming the bucket and, for 403, the
role to grant.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from batchspec.errors import RemoteStateError, StateConflictError
from batchspec.io import guard
from batchspec.io.storage import GOOGLE_STORAGE, emulator_endpoint
from batchspec.remote.location import RemoteLocation
from batchspec.remote.protocol import HeldLock, LockRecord, StateObject

T = TypeVar("T")
ROLE = "roles/storage.objectUser"
PERMISSIONS = (
    "storage.objects.get, storage.objects.create, storage.objects.delete and storage.objects.list"
)
STATE_CONTENT_TYPE = "application/vnd.sqlite3"


class GcsBackend:
    """The objects of one `gs://bucket/prefix` state (see `RemoteBackend`)."""

    def __init__(self, location: RemoteLocation, *, client: Any = None) -> None:
        self.location = location
        self._client = client
        self._local = threading.local()  # a client per thread (requests sessions are not shared)
        self._limits = guard.limits()

    @property
    def url(self) -> str:
        return str(self.location)

    # --- the client --------------------------------------------------------------------

    def _bucket(self) -> Any:
        bucket = getattr(self._local, "bucket", None)
        if bucket is None:
            client = self._client or self._call("connect", _new_client)
            bucket = client.bucket(self.location.bucket)
            self._local.bucket = bucket
        return bucket

    def _options(self) -> dict[str, Any]:
        from google.cloud.storage.retry import DEFAULT_RETRY

        limit = self._limits
        total = max(limit.timeout, limit.timeout * limit.attempts)
        retry = DEFAULT_RETRY.with_timeout(total).with_delay(initial=0.5, maximum=4.0)
        return {"timeout": (limit.timeout, limit.timeout), "retry": retry}

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one storage call; its failures as batchspec errors naming the bucket."""
        try:
            return fn()
        except Exception as exc:
            raise self._translate(what, exc) from exc

    def _translate(self, what: str, exc: Exception) -> Exception:
        from google.api_core import exceptions as api
        from google.auth import exceptions as auth

        where = f"{self.url}: cannot {what}"
        bucket = f"gs://{self.location.bucket}"
        if isinstance(exc, api.PreconditionFailed):
            return StateConflictError(f"{where}: its generation changed (someone else wrote it)")
        if isinstance(exc, api.Forbidden):
            return RemoteStateError(
                f"{where}: permission denied on bucket {bucket} ({_message(exc)})",
                hint=f"grant the identity batchspec runs as {ROLE} on {bucket}"
                f" (`gcloud storage buckets add-iam-policy-binding {bucket}"
                f" --member=serviceAccount:SA_EMAIL --role={ROLE}`); it needs {PERMISSIONS}",
            )
        if isinstance(exc, api.Unauthorized | auth.DefaultCredentialsError | auth.RefreshError):
            return RemoteStateError(
                f"{where}: no usable Google credentials ({_message(exc)})",
                hint="run `gcloud auth application-default login`, or set"
                " GOOGLE_APPLICATION_CREDENTIALS; in GitHub Actions use"
                " google-github-actions/auth (docs/controller.md)",
            )
        if isinstance(exc, api.NotFound) and "bucket" not in _message(exc).lower():
            return StateConflictError(f"{where}: the object is gone ({_message(exc)})")
        if isinstance(exc, api.NotFound):
            return RemoteStateError(
                f"{where}: bucket {bucket} does not exist ({_message(exc)})",
                hint=f"create it (`gcloud storage buckets create {bucket}"
                " --uniform-bucket-level-access`, versioning recommended) or fix --state",
            )
        if isinstance(exc, api.GoogleAPICallError | api.RetryError | OSError) or _is_transport(exc):
            endpoint = emulator_endpoint() or GOOGLE_STORAGE
            return RemoteStateError(
                f"{where}: {endpoint} did not answer for bucket {bucket} ({_message(exc)})",
                hint="check the network (and a proxy, if any); the limits are"
                f" ${guard.TIMEOUT_ENV} and ${guard.RETRIES_ENV}; nothing was changed",
            )
        return exc

    # --- the state object --------------------------------------------------------------

    def stat_state(self) -> StateObject | None:
        name = self.location.state_object

        def stat() -> Any:
            from google.api_core import exceptions as api

            blob = self._bucket().blob(name)
            try:
                blob.reload(**self._options())
            except api.NotFound as exc:
                if "bucket" in _message(exc).lower():
                    raise
                return None
            return blob

        blob = self._call("read the state's metadata", stat)
        return None if blob is None else _state_object(blob)

    def download_state(self, generation: int, dest: Path) -> None:
        def fetch() -> None:
            blob = self._bucket().blob(self.location.state_object, generation=generation)
            blob.download_to_filename(str(dest), **self._options())

        self._call(f"download the state (generation {generation})", fetch)

    def upload_state(self, src: Path, *, if_generation: int, meta: Mapping[str, str]) -> int:
        def upload() -> int:
            blob = self._bucket().blob(self.location.state_object)
            blob.metadata = dict(meta)
            blob.upload_from_filename(
                str(src),
                content_type=STATE_CONTENT_TYPE,
                if_generation_match=if_generation,
                checksum="crc32c",
                **self._options(),
            )
            return int(blob.generation)

        return self._call("write the state", upload)

    def keep_copy(self, state: StateObject) -> str:
        from google.api_core import exceptions as api

        target = self.location.history_object(state.generation)

        def copy() -> None:
            bucket = self._bucket()
            # Kept already (by an earlier, interrupted push): fine.
            with contextlib.suppress(api.PreconditionFailed):
                bucket.copy_blob(
                    bucket.blob(self.location.state_object),
                    bucket,
                    target,
                    source_generation=state.generation,
                    if_generation_match=0,
                    **self._options(),
                )

        self._call(f"keep a copy of generation {state.generation}", copy)
        return target

    def prune_history(self, keep: int) -> None:
        kept = [v for v in self.versions() if v.kept_as is not None]
        for version in kept[keep:]:
            name = version.kept_as
            assert name is not None

            def delete(name: str = name) -> None:
                from google.api_core import exceptions as api

                with contextlib.suppress(api.NotFound):
                    self._bucket().blob(name).delete(**self._options())

            self._call(f"delete the old copy {name}", delete)

    def versions(self) -> list[StateObject]:
        name = self.location.state_object
        history = self.location.history_prefix

        def listing() -> list[StateObject]:
            client = self._bucket().client
            found: list[StateObject] = []
            for blob in client.list_blobs(
                self.location.bucket, prefix=name, versions=True, **self._options()
            ):
                if blob.name == name:
                    found.append(_state_object(blob, live=blob.time_deleted is None))
            for blob in client.list_blobs(self.location.bucket, prefix=history, **self._options()):
                suffix = blob.name[len(history) :]
                if suffix.isdigit():
                    found.append(_state_object(blob, live=False, generation=int(suffix)))
            return found

        found = self._call("list the state's versions", listing)
        return sorted(found, key=lambda v: (v.generation, v.kept_as is None), reverse=True)

    def fetch_version(self, version: StateObject, dest: Path) -> None:
        if version.kept_as is None:
            self.download_state(version.generation, dest)
            return
        kept = version.kept_as

        def fetch() -> None:
            self._bucket().blob(kept).download_to_filename(str(dest), **self._options())

        self._call(f"download {kept}", fetch)

    # --- the lock object ---------------------------------------------------------------

    def create_lock(self, record: LockRecord) -> int:
        return self._write_lock(record, 0, "take the lock")

    def replace_lock(self, record: LockRecord, *, if_generation: int) -> int:
        return self._write_lock(record, if_generation, "renew the lock")

    def _write_lock(self, record: LockRecord, if_generation: int, what: str) -> int:
        def write() -> int:
            blob = self._bucket().blob(self.location.lock_object)
            blob.upload_from_string(
                record.to_json(),
                content_type="application/json",
                if_generation_match=if_generation,
                **self._options(),
            )
            return int(blob.generation)

        return self._call(what, write)

    def read_lock(self) -> HeldLock | None:
        def read() -> HeldLock | None:
            from google.api_core import exceptions as api

            blob = self._bucket().blob(self.location.lock_object)
            try:
                blob.reload(**self._options())
                raw = blob.download_as_bytes(if_generation_match=blob.generation, **self._options())
            except (api.NotFound, api.PreconditionFailed) as exc:
                if "bucket" in _message(exc).lower():
                    raise
                return None  # released (or replaced) while we looked: look again later
            return HeldLock(int(blob.generation), LockRecord.from_json(raw))

        return self._call("read the lock", read)

    def delete_lock(self, *, if_generation: int) -> None:
        def delete() -> None:
            from google.api_core import exceptions as api

            blob = self._bucket().blob(self.location.lock_object)
            try:
                blob.delete(if_generation_match=if_generation, **self._options())
            except api.NotFound as exc:
                raise StateConflictError(f"{self.url}: the lock is gone") from exc

        self._call("release the lock", delete)


def _new_client() -> Any:
    """A storage client: the emulator's when STORAGE_EMULATOR_HOST is set, else
    Application Default Credentials."""
    from google.cloud import storage  # type: ignore[attr-defined]

    if emulator_endpoint() is not None:
        return storage.Client()
    import google.auth

    credentials, project = google.auth.default(
        scopes=["https://www.googleapis.com/auth/devstorage.read_write"]
    )
    return storage.Client(project=project, credentials=credentials)


def _state_object(blob: Any, *, live: bool = True, generation: int | None = None) -> StateObject:
    return StateObject.from_metadata(
        generation if generation is not None else int(blob.generation),
        int(blob.size or 0),
        blob.updated,
        blob.metadata,
        live=live,
        kept_as=blob.name if generation is not None else None,
    )


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]


def _is_transport(exc: BaseException) -> bool:
    """Connection failures of requests / urllib3 / google-auth's transport."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"RequestException", "TransportError", "HTTPError", "ProtocolError"})
