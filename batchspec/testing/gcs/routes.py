"""The Cloud Storage JSON API routes of `StorageDouble`: reads, listings,
copies, deletes and the three upload kinds (simple, multipart, resumable),
each honouring the generation preconditions as Cloud Storage does. Kept apart
from the server (its HTTP plumbing and the test-facing controls), which
reaches these through `Routes`; the routes reach back only through the two
Protocols below."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Protocol
from urllib.parse import unquote

from batchspec.testing.gcs.objects import ObjectStore, Preconditions, StorageFailureError, Version
from batchspec.testing.gcs.wire import multipart_parts, object_path


@dataclass
class Hold:
    """An upload held between receiving its body and committing it."""

    name: str
    started: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    commit: bool = True

    def release(self, *, commit: bool) -> None:
        """Let the held upload go on: committed, or dropped as if the connection
        broke before its last byte (the service then keeps the old generation)."""
        self.commit = commit
        self.released.set()


@dataclass
class Resumable:
    """A resumable upload in progress (its chunks so far)."""

    bucket: str
    name: str
    metadata: dict[str, Any]
    pre: Preconditions
    data: bytearray = field(default_factory=bytearray)


class DroppedError(Exception):
    """The connection is dropped without an answer (a held upload not committed)."""


def error_body(exc: StorageFailureError) -> dict[str, Any]:
    return {
        "error": {
            "code": exc.status,
            "message": exc.message,
            "errors": [{"domain": "global", "reason": exc.reason, "message": exc.message}],
        }
    }


class Answers(Protocol):
    """The request handler, as the routes answer through it."""

    headers: Message

    def _answer(
        self, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> None: ...

    def _media(self, version: Version) -> None: ...


class Owner(Protocol):
    """The double, as the routes use it."""

    store: ObjectStore
    _uploads: dict[str, Resumable]

    @property
    def url(self) -> str: ...

    def _take_hold(self, name: str) -> Hold | None: ...


class Routes:
    """One request's routing and answers."""

    def __init__(self, handler: Answers, owner: Owner, query: dict[str, str]) -> None:
        self.handler = handler
        self.owner = owner
        self.store = owner.store
        self.query = query

    @property
    def base(self) -> str:
        return self.owner.url

    def route(self, method: str, path: str, body: bytes) -> tuple[int, Any] | None:
        if path.startswith("/upload/storage/v1/b/"):
            bucket = unquote(path.split("/")[5])
            return self.upload(method, bucket, body)
        download = path.startswith("/download/storage/v1/")
        parts = object_path(path.removeprefix("/download") if download else path)
        if parts is None:
            raise StorageFailureError(404, "notFound", f"Not Found: {path}")
        bucket, name, copy = parts
        if name is None:
            if method == "GET" and path.rstrip("/").endswith("/o"):
                return self.listing(bucket)
            if method == "GET":
                found = self.store.bucket(bucket)
                return 200, {
                    "kind": "storage#bucket",
                    "name": found.name,
                    "id": found.name,
                    "versioning": {"enabled": found.versioning},
                }
            raise StorageFailureError(405, "methodNotAllowed", f"{method} {path}")
        if copy is not None:
            return self.copy(bucket, name, copy)
        if method == "DELETE":
            self.store.delete(
                bucket, name, self._generation(), Preconditions.from_query(self.query)
            )
            return 204, None
        if method == "GET":
            version = self.store.get(
                bucket, name, self._generation(), Preconditions.from_query(self.query)
            )
            if download or self.query.get("alt") == "media":
                self.handler._media(version)
                return None
            return 200, version.resource(self.base)
        raise StorageFailureError(405, "methodNotAllowed", f"{method} {path}")

    def _generation(self, key: str = "generation") -> int | None:
        text = self.query.get(key)
        return int(text) if text else None

    def listing(self, bucket: str) -> tuple[int, Any]:
        prefix = self.query.get("prefix", "")
        found = self.store.listing(
            bucket, prefix, versions=self.query.get("versions", "").lower() == "true"
        )
        size = int(self.query.get("maxResults") or 1000)
        start = int(self.query.get("pageToken") or 0)
        page = found[start : start + size]
        out: dict[str, Any] = {
            "kind": "storage#objects",
            "items": [v.resource(self.base) for v in page],
        }
        if start + size < len(found):
            out["nextPageToken"] = str(start + size)
        return 200, out

    def copy(self, bucket: str, name: str, copy: tuple[str, str, str]) -> tuple[int, Any]:
        kind, dest_bucket, dest_name = copy
        source = self.store.get(
            bucket,
            name,
            self._generation("sourceGeneration"),
            Preconditions.from_query(self.query, prefix="ifSource"),
        )
        version = self.store.put(
            dest_bucket,
            dest_name,
            source.data,
            content_type=source.content_type,
            metadata=source.metadata,
            pre=Preconditions.from_query(self.query),
        )
        resource = version.resource(self.base)
        if kind == "rewriteTo":
            size = str(len(source.data))
            return 200, {
                "kind": "storage#rewriteResponse",
                "totalBytesRewritten": size,
                "objectSize": size,
                "done": True,
                "resource": resource,
            }
        return 200, resource

    # --- uploads -----------------------------------------------------------------------

    def upload(self, method: str, bucket: str, body: bytes) -> tuple[int, Any] | None:
        kind = self.query.get("uploadType", "media")
        if method == "PUT" or (method == "POST" and "upload_id" in self.query):
            return self._resumable_chunk(body)
        self.store.bucket(bucket)
        pre = Preconditions.from_query(self.query)
        if kind == "resumable":
            metadata = json.loads(body or b"{}")
            name = metadata.get("name") or self.query.get("name", "")
            upload_id = uuid.uuid4().hex
            self.owner._uploads[upload_id] = Resumable(bucket, name, metadata, pre)
            location = f"{self.base}/upload/storage/v1/b/{bucket}/o?uploadType=resumable"
            self.handler._answer(200, None, {"Location": f"{location}&upload_id={upload_id}"})
            return None
        if kind == "multipart":
            content_type = self.handler.headers.get("Content-Type", "")
            metadata, data, media_type = multipart_parts(content_type, body)
        else:
            metadata, data = {}, body
            media_type = self.handler.headers.get("Content-Type", "")
        name = metadata.get("name") or self.query.get("name", "")
        self.query.setdefault("name", name)
        return self._commit(bucket, name, data, metadata=metadata, content_type=media_type, pre=pre)

    def _resumable_chunk(self, body: bytes) -> tuple[int, Any] | None:
        upload = self.owner._uploads.get(self.query.get("upload_id", ""))
        if upload is None:
            raise StorageFailureError(404, "notFound", "No such upload session")
        self.query.setdefault("name", upload.name)
        upload.data.extend(body)
        content_range = self.handler.headers.get("Content-Range", "")
        total = content_range.rsplit("/", 1)[-1] if "/" in content_range else "*"
        if total == "*" or len(upload.data) < int(total):
            end = len(upload.data) - 1
            headers = {"Range": f"bytes=0-{end}"} if end >= 0 else {}
            self.handler._answer(308, None, headers)
            return None
        del self.owner._uploads[self.query["upload_id"]]
        return self._commit(
            upload.bucket,
            upload.name,
            bytes(upload.data),
            metadata=upload.metadata,
            content_type=upload.metadata.get("contentType", ""),
            pre=upload.pre,
        )

    def _commit(
        self,
        bucket: str,
        name: str,
        data: bytes,
        *,
        metadata: dict[str, Any],
        content_type: str,
        pre: Preconditions,
    ) -> tuple[int, Any]:
        if not name:
            raise StorageFailureError(400, "required", "Required parameter: name")
        hold = self.owner._take_hold(name)
        if hold is not None:
            hold.started.set()
            hold.released.wait()
        try:
            if hold is not None and not hold.commit:
                raise DroppedError
            version = self.store.put(
                bucket,
                name,
                data,
                content_type=metadata.get("contentType") or content_type,
                metadata={str(k): str(v) for k, v in (metadata.get("metadata") or {}).items()},
                pre=pre,
            )
        finally:
            if hold is not None:
                hold.done.set()
        return 200, version.resource(self.base)
