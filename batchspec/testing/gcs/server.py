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

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from batchspec.testing.gcs.objects import ObjectStore, StorageFailureError, Version
from batchspec.testing.gcs.routes import DroppedError, Hold, Resumable, Routes, error_body
from batchspec.testing.gcs.wire import permission_for

ANONYMOUS = "anonymous-caller@example.iam.gserviceaccount.com"


@dataclass
class Call:
    """One request the double answered."""

    method: str
    path: str
    query: dict[str, str]
    status: int = 0  # 0 until answered (and for a connection dropped unanswered)


class StorageDouble:
    """The server. `start()` it (or use it as a context manager); `url` is what
    STORAGE_EMULATOR_HOST (or the client's api_endpoint) should point at."""

    def __init__(self) -> None:
        self.store = ObjectStore()
        self.calls: list[Call] = []
        self.denied: dict[str, str] = {}
        self._faults: list[tuple[Callable[[str, str], bool], int, str]] = []
        self._drops: list[Callable[[str, str, str], bool]] = []
        self._holds: dict[str, Hold] = {}
        self._uploads: dict[str, Resumable] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> StorageDouble:
        double = self

        class Handler(_Handler):
            owner = double

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        return self

    def stop(self) -> None:
        for hold in list(self._holds.values()):
            hold.release(commit=False)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StorageDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

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


class _Handler(BaseHTTPRequestHandler):
    owner: StorageDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # --- plumbing ------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
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
            self._json(exc.status, error_body(exc))
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
        self._json(status, payload)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

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

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _media(self, version: Version) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", version.content_type)
            self.send_header("Content-Length", str(len(version.data)))
            self.send_header("X-Goog-Generation", str(version.generation))
            self.send_header("X-Goog-Metageneration", str(version.metageneration))
            self.send_header("X-Goog-Hash", f"crc32c={version.crc32c()},md5={version.md5()}")
            self.end_headers()
            self.wfile.write(version.data)
        except OSError:
            self.close_connection = True
