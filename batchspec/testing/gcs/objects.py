"""The object model of the Cloud Storage double: buckets, generations, versions
and preconditions, with no HTTP in it.

What it keeps from Cloud Storage (https://cloud.google.com/storage/docs/
generations-preconditions, .../object-versioning):

* every write of an object makes a new *generation* (a number that only
  grows); a metadata change makes a new *metageneration* of one generation;
* a write is atomic: readers see the old generation or the new one;
* `ifGenerationMatch=0` means "only if no live object has this name";
  `ifGenerationMatch=G` "only if the live generation is G"; any mismatch is
  HTTP 412 conditionNotMet and changes nothing;
* with versioning on, an overwritten or deleted live object becomes a
  *noncurrent* version that can still be read and copied by its generation;
  with it off, it is gone.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import crc32c


class StorageFailureError(Exception):
    """An error answer of the JSON API: status, reason (`errors[0].reason`), message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Version:
    """One generation of one object."""

    bucket: str
    name: str
    generation: int
    data: bytes
    content_type: str
    metadata: dict[str, str]
    created: datetime
    metageneration: int = 1
    deleted: datetime | None = None  # when it stopped being the live version

    @property
    def live(self) -> bool:
        """True for the current version (readable without naming a generation)."""
        return self.deleted is None

    def crc32c(self) -> str:
        """Base64 of the big-endian CRC32C, as the API reports it."""
        return base64.b64encode(crc32c.crc32c(self.data).to_bytes(4, "big")).decode()

    def md5(self) -> str:
        """Base64 of the MD5 digest, as the API reports it."""
        return base64.b64encode(hashlib.md5(self.data).digest()).decode()

    def resource(self, base_url: str) -> dict[str, object]:
        """The `storage#object` resource."""
        from urllib.parse import quote

        quoted = quote(self.name, safe="")
        out: dict[str, object] = {
            "kind": "storage#object",
            "id": f"{self.bucket}/{self.name}/{self.generation}",
            "selfLink": f"{base_url}/storage/v1/b/{self.bucket}/o/{quoted}",
            "mediaLink": f"{base_url}/download/storage/v1/b/{self.bucket}/o/{quoted}"
            f"?generation={self.generation}&alt=media",
            "name": self.name,
            "bucket": self.bucket,
            "generation": str(self.generation),
            "metageneration": str(self.metageneration),
            "contentType": self.content_type,
            "storageClass": "STANDARD",
            "size": str(len(self.data)),
            "md5Hash": self.md5(),
            "crc32c": self.crc32c(),
            "etag": f"C{self.generation}{self.metageneration}",
            "timeCreated": _stamp(self.created),
            "updated": _stamp(self.created),
        }
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        if self.deleted is not None:
            out["timeDeleted"] = _stamp(self.deleted)
        return out


@dataclass
class Bucket:
    """A bucket: its versioning setting and every version of every object."""

    name: str
    versioning: bool = False
    objects: dict[str, list[Version]] = field(default_factory=dict)

    def live(self, name: str) -> Version | None:
        """The live version of `name`, if any."""
        versions = self.objects.get(name) or []
        return versions[-1] if versions and versions[-1].live else None

    def version(self, name: str, generation: int | None) -> Version | None:
        """The version named by `generation` (live or noncurrent), else the live one."""
        if generation is None:
            return self.live(name)
        return next((v for v in self.objects.get(name) or [] if v.generation == generation), None)


@dataclass(frozen=True)
class Preconditions:
    """The `if*` query parameters of one request (None: not given)."""

    generation: int | None = None
    not_generation: int | None = None
    metageneration: int | None = None
    not_metageneration: int | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str], prefix: str = "if") -> Preconditions:
        """Read `ifGenerationMatch` & co. (or `ifSourceGenerationMatch` with that prefix)."""

        def number(key: str) -> int | None:
            text = query.get(f"{prefix}{key}")
            if text is None:
                return None
            try:
                return int(text)
            except ValueError:
                raise StorageFailureError(
                    400, "invalid", f"Invalid value for {prefix}{key}"
                ) from None

        return cls(
            number("GenerationMatch"),
            number("GenerationNotMatch"),
            number("MetagenerationMatch"),
            number("MetagenerationNotMatch"),
        )

    def check(self, current: Version | None) -> None:
        """412 conditionNotMet unless every given condition holds for `current`
        (the live version, or None when there is none)."""
        generation = current.generation if current is not None else 0
        failed = (
            (self.generation is not None and self.generation != generation)
            or (self.not_generation is not None and self.not_generation == generation)
            or (
                self.metageneration is not None
                and (current is None or self.metageneration != current.metageneration)
            )
            or (
                self.not_metageneration is not None
                and current is not None
                and self.not_metageneration == current.metageneration
            )
        )
        if failed:
            raise StorageFailureError(
                412,
                "conditionNotMet",
                "At least one of the pre-conditions you specified did not hold.",
            )


class ObjectStore:
    """Buckets and objects, every operation atomic under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.buckets: dict[str, Bucket] = {}
        # Generations grow like the service's (microseconds), strictly.
        self._generations = itertools.count(int(time.time() * 1_000_000))

    def create_bucket(self, name: str, *, versioning: bool = False) -> Bucket:
        """A new, empty bucket (409 when it exists)."""
        with self.lock:
            if name in self.buckets:
                raise StorageFailureError(409, "conflict", f"Bucket {name} already exists.")
            self.buckets[name] = Bucket(name, versioning=versioning)
            return self.buckets[name]

    def bucket(self, name: str) -> Bucket:
        """The bucket, or 404 notFound as the API words it."""
        found = self.buckets.get(name)
        if found is None:
            raise StorageFailureError(404, "notFound", "The specified bucket does not exist.")
        return found

    def get(self, bucket: str, name: str, generation: int | None, pre: Preconditions) -> Version:
        """One version (the live one unless `generation` names another)."""
        with self.lock:
            found = self.bucket(bucket).version(name, generation)
            if found is None:
                raise StorageFailureError(404, "notFound", f"No such object: {bucket}/{name}")
            pre.check(found if generation is not None else self.bucket(bucket).live(name))
            return found

    def put(
        self,
        bucket: str,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
        pre: Preconditions = Preconditions(),
    ) -> Version:
        """Write a new generation, atomically, if the preconditions hold."""
        with self.lock:
            target = self.bucket(bucket)
            current = target.live(name)
            pre.check(current)
            now = datetime.now(UTC)
            version = Version(
                bucket,
                name,
                next(self._generations),
                bytes(data),
                content_type or "application/octet-stream",
                dict(metadata or {}),
                now,
            )
            self._retire(target, name, current, now)
            target.objects.setdefault(name, []).append(version)
            return version

    def delete(self, bucket: str, name: str, generation: int | None, pre: Preconditions) -> None:
        """Delete the live version (noncurrent with versioning on), or one generation."""
        with self.lock:
            target = self.bucket(bucket)
            current = target.live(name)
            if generation is not None:
                found = target.version(name, generation)
                if found is None:
                    raise StorageFailureError(404, "notFound", f"No such object: {bucket}/{name}")
                pre.check(current)
                target.objects[name].remove(found)
                return
            if current is None:
                raise StorageFailureError(404, "notFound", f"No such object: {bucket}/{name}")
            pre.check(current)
            self._retire(target, name, current, datetime.now(UTC))

    def _retire(self, bucket: Bucket, name: str, current: Version | None, now: datetime) -> None:
        """The live version stops being live: noncurrent with versioning, else gone."""
        if current is None:
            return
        if bucket.versioning:
            current.deleted = now
        else:
            bucket.objects[name].remove(current)
        if not bucket.objects[name]:
            del bucket.objects[name]

    def listing(self, bucket: str, prefix: str, *, versions: bool) -> list[Version]:
        """Live versions under `prefix` by name (every version, oldest first, with `versions`)."""
        with self.lock:
            target = self.bucket(bucket)
            out: list[Version] = []
            for name in sorted(n for n in target.objects if n.startswith(prefix)):
                found = target.objects[name]
                out.extend(found if versions else [v for v in found if v.live])
            return out
