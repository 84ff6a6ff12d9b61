"""A Cloud Storage JSON API double that keeps Cloud Storage's promises about
generations and preconditions, for google-cloud-storage to talk to.

Why not fake-gcs-server for this: it ignores `ifGenerationMatch=0` (a second
create of one object answers 200) and its file backend keeps no versions, so
a lock or a guarded write that works against it proves nothing. This double
answers 412 on a failed precondition, keeps noncurrent versions when a
bucket has versioning on, and serves exactly what google-cloud-storage calls:

* `GET /storage/v1/b/B` (bucket), `GET /storage/v1/b/B/o` (list, `versions`,
  `prefix`, pages), `GET|DELETE /storage/v1/b/B/o/NAME` (`generation`, `if*`);
* media downloads (`/download/storage/v1/b/B/o/NAME?alt=media`, with the
  `X-Goog-Hash` header the client checks);
* multipart and resumable uploads (`/upload/storage/v1/b/B/o`);
* `copyTo` and `rewriteTo` (server-side copies, `sourceGeneration`).

Test controls: `deny(bucket)` answers 403 naming the missing permission, as
the service does; `fail_next(...)` answers one request with an error;
`hold(name)` stops an upload of `name` after its body arrived and before it
commits, until the test says whether it commits (a process killed mid-upload);
`drop_answer_next(...)` carries a request out and then drops the connection
(a write that landed though the client never heard back); `calls` lists every
request with its answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from batchspec.testing.gcs.objects import ObjectStore, StorageFailureError, Version
from batchspec.testing.gcs.routes import DroppedError, Hold, Resumable, Routes, error_body
from batchspec.testing.gcs.wire import permission_for
from batchspec.testing.httpdouble import JsonHandler, ServedDouble

ANONYMOUS = "anonymous-caller@example.iam.gserviceaccount.com"


@dataclass
class Call:
    """One request the double answered."""

    method: str
    path: str
    query: dict[str, str]
    status: int = 0  # 0 until answered (and for a connection dropped unanswered)


class _Handler(JsonHandler):
    owner: StorageDouble
    protocol_version = "HTTP/1.1"

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        call = Call(method, split.path, query)
        self.owner.calls.append(call)
        body = self._body()
        try:
            self._check_access(method, split.path)
            fault = self.owner._fault_for(method, split.path)
            if fault is not None:
                raise StorageFailureError(fault[0], fault[1], "injected failure")
            routes = Routes(self, self.owner, query)
            answer = routes.route(method, split.path, body)
        except StorageFailureError as exc:
            call.status = exc.status
            self._answer(exc.status, error_body(exc))
            return
        except DroppedError:
            call.status = 0
            self.close_connection = True
            return
        if answer is None:
            return  # the route answered itself
        if self.owner._drop_for(method, split.path, query.get("name", "")):
            call.status = 0
            self.close_connection = True
            return
        status, payload = answer
        call.status = status
        self._answer(status, payload)

    def _check_access(self, method: str, path: str) -> None:
        for bucket, principal in self.owner.denied.items():
            if f"/b/{bucket}/" in path + "/" or path.endswith(f"/b/{bucket}"):
                permission = permission_for(method, path)
                raise StorageFailureError(
                    403,
                    "forbidden",
                    f"{principal} does not have {permission} access to the Google Cloud"
                    f" Storage bucket. Permission '{permission}' denied on resource (or it"
                    " may not exist).",
                )

    def _media(self, version: Version) -> None:
        headers = {
            "Content-Type": version.content_type,
            "X-Goog-Generation": str(version.generation),
            "X-Goog-Metageneration": str(version.metageneration),
            "X-Goog-Hash": f"crc32c={version.crc32c()},md5={version.md5()}",
        }
        self._send(200, version.data, headers)


class StorageDouble(ServedDouble):
    """The server. `start()` it (or use it as a context manager); `url` is what
    STORAGE_EMULATOR_HOST (or the client's api_endpoint) should point at."""

    handler = _Handler

    def __init__(self) -> None:
        self.store = ObjectStore()
        self.calls: list[Call] = []
        self.denied: dict[str, str] = {}
        self._faults: list[tuple[Callable[[str, str], bool], int, str]] = []
        self._drops: list[Callable[[str, str, str], bool]] = []
        self._holds: dict[str, Hold] = {}
        self._uploads: dict[str, Resumable] = {}
        self._lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------

    def stop(self) -> None:
        for hold in list(self._holds.values()):
            hold.release(commit=False)
        super().stop()

    # --- test controls -----------------------------------------------------------------

    def create_bucket(self, name: str, *, versioning: bool = False) -> None:
        """A new, empty bucket."""
        self.store.create_bucket(name, versioning=versioning)

    def deny(self, bucket: str, principal: str = ANONYMOUS) -> None:
        """Answer every request on `bucket` with 403, as for a caller without a role."""
        self.denied[bucket] = principal

    def fail_next(
        self, status: int, *, method: str = "", path_part: str = "", reason: str = "backendError"
    ) -> None:
        """Answer the next request whose method and path match with `status`."""

        def matches(m: str, p: str) -> bool:
            return (not method or m == method) and path_part in p

        with self._lock:
            self._faults.append((matches, status, reason))

    def drop_answer_next(self, *, method: str = "", path_part: str = "", name: str = "") -> None:
        """Carry out the next matching request (by method, path, object name), then
        drop the connection without answering (the write happened; the client
        cannot know)."""

        def matches(m: str, p: str, n: str) -> bool:
            return (not method or m == method) and path_part in p and (not name or n == name)

        with self._lock:
            self._drops.append(matches)

    def hold(self, name: str) -> Hold:
        """Hold the next upload of object `name` before it commits."""
        hold = Hold(name)
        with self._lock:
            self._holds[name] = hold
        return hold

    def versions(self, bucket: str, name: str) -> list[Version]:
        """Every version of one object, oldest first."""
        with self.store.lock:
            return list(self.store.bucket(bucket).objects.get(name, []))

    def read(self, bucket: str, name: str) -> bytes | None:
        """The live object's bytes, or None."""
        with self.store.lock:
            found = self.store.bucket(bucket).live(name)
            return found.data if found is not None else None

    def uploads(self, name: str) -> list[Call]:
        """Upload requests that named object `name` (their answers included)."""
        return [c for c in self.calls if "/upload/" in c.path and c.query.get("name") == name]

    # --- internals used by the handler ------------------------------------------------

    def _fault_for(self, method: str, path: str) -> tuple[int, str] | None:
        with self._lock:
            for i, (matches, status, reason) in enumerate(self._faults):
                if matches(method, path):
                    del self._faults[i]
                    return status, reason
        return None

    def _drop_for(self, method: str, path: str, name: str) -> bool:
        with self._lock:
            for i, matches in enumerate(self._drops):
                if matches(method, path, name):
                    del self._drops[i]
                    return True
        return False

    def _take_hold(self, name: str) -> Hold | None:
        with self._lock:
            return self._holds.pop(name, None)
