"""How the Cloud Storage JSON API spells things on the wire: object paths,
multipart upload bodies, and the IAM permission each call needs (for 403s
worded like the service's)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

_API = "/storage/v1/b/"
_COPY_VERBS = ("copyTo", "rewriteTo")


def object_path(path: str) -> tuple[str, str | None, tuple[str, str, str] | None] | None:
    """`/storage/v1/b/B[/o[/NAME[/copyTo/b/B2/o/NAME2]]]` as (bucket, name, copy).

    Object names arrive percent-encoded (a `/` in a name is `%2F`), so the raw
    path splits on `/` safely before each part is decoded."""
    if not path.startswith(_API):
        return None
    parts = path[len(_API) :].split("/")
    bucket = unquote(parts[0])
    if len(parts) <= 2 or (len(parts) == 3 and not parts[2]):
        return bucket, None, None
    if parts[1] != "o":
        return None
    name = unquote(parts[2])
    if len(parts) == 3:
        return bucket, name, None
    if len(parts) == 8 and parts[3] in _COPY_VERBS and parts[4] == "b" and parts[6] == "o":
        return bucket, name, (parts[3], unquote(parts[5]), unquote(parts[7]))
    return None


def multipart_parts(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes, str]:
    """The JSON metadata, the media bytes and the media's content type of a
    `multipart/related` upload body."""
    boundary = ""
    for piece in content_type.split(";"):
        key, _, value = piece.strip().partition("=")
        if key == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise ValueError("multipart upload without a boundary")
    marker = b"--" + boundary.encode()
    sections = [s for s in body.split(marker) if s not in (b"", b"--", b"--\r\n", b"\r\n")]
    parsed: list[tuple[dict[str, str], bytes]] = []
    for section in sections:
        head, _, content = section.lstrip(b"\r\n").partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        parsed.append((headers, content.removesuffix(b"\r\n")))
    (_, meta), (media_headers, data) = parsed[0], parsed[1]
    return json.loads(meta or b"{}"), data, media_headers.get("content-type", "")


def permission_for(method: str, path: str) -> str:
    """The IAM permission Cloud Storage checks for this call."""
    if path.startswith("/upload/") or "/copyTo/" in path or "/rewriteTo/" in path:
        return "storage.objects.create"
    if method == "DELETE":
        return "storage.objects.delete"
    parts = object_path(path.removeprefix("/download"))
    if parts is not None and parts[1] is None:
        return "storage.objects.list" if path.rstrip("/").endswith("/o") else "storage.buckets.get"
    if method == "PATCH":
        return "storage.objects.update"
    return "storage.objects.get"
