"""Output manifests: what a job says it wrote.

The local engine writes `batchspec-manifest.json` into the output folder when
a job ends, listing every output file with its sha256, size and record count,
and the output format (a plain `manifest.json` is read too, for outputs
written by other tools). `batchspec results` checks the files against it and
`batchspec drift` checks that it did not change.

Accepted shapes (the engine's is the first):

    {"outputFormat": "JSONL",
     "files": [{"name": "prediction.results-00000-of-00001", "sha256": "...", "bytes": 123,
                "records": 10}], ...}
    {"files": {"prediction.results-00000-of-00001": {"sha256": "...", "size": 123}}}
    {"files": {"prediction.results-00000-of-00001": "<sha256>"}}

(`path` or `file` may stand for `name`; `outputs` for `files`; `size` for
`bytes`.) Reading goes through `batchspec.io.storage`: a manifest that is not
a regular file (a FIFO, a symlink to a device) is an error, never a hang.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from batchspec.io import storage

MANIFEST_NAME = "batchspec-manifest.json"
MANIFEST_NAMES = (MANIFEST_NAME, "manifest.json")
MAX_MANIFEST_BYTES = 64 << 20


@dataclass(frozen=True)
class ManifestEntry:
    """One output file as the manifest lists it."""

    name: str
    sha256: str | None
    size: int | None
    records: int | None = None


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest plus the digest of its bytes."""

    entries: tuple[ManifestEntry, ...]
    digest: str
    output_format: str | None = None

    def entry(self, name: str) -> ManifestEntry | None:
        """The entry for a file name, if listed."""
        return next((e for e in self.entries if e.name == name), None)


class ManifestError(ValueError):
    """The manifest exists but cannot be understood."""


def parse_manifest(data: bytes) -> Manifest:
    """Parse manifest bytes (any accepted shape)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ManifestError(f"not JSON: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise ManifestError("not a JSON object")
    files = doc.get("files", doc.get("outputs"))
    if files is None:
        raise ManifestError("no `files` list")
    entries = tuple(_entries(files))
    fmt = doc.get("outputFormat")
    return Manifest(
        entries=entries,
        digest=hashlib.sha256(data).hexdigest(),
        output_format=fmt.upper() if isinstance(fmt, str) else None,
    )


def _entries(files: Any) -> Iterator[ManifestEntry]:
    if isinstance(files, Mapping):
        for name, info in files.items():
            if isinstance(info, str):
                yield ManifestEntry(str(name), info, None)
            elif isinstance(info, Mapping):
                yield _entry({**info, "name": name})
            else:
                raise ManifestError(f"entry {name!r} is neither a digest nor an object")
        return
    if not isinstance(files, list):
        raise ManifestError("`files` is neither a list nor an object")
    for item in files:
        if not isinstance(item, Mapping):
            raise ManifestError("a `files` item is not an object")
        yield _entry(item)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _entry(item: Mapping[str, Any]) -> ManifestEntry:
    name = item.get("name", item.get("path", item.get("file")))
    if not isinstance(name, str) or not name:
        raise ManifestError("a `files` item has no name")
    if ".." in name.split("/"):
        raise ManifestError(f"a `files` item names a file outside the folder: {name!r}")
    sha = item.get("sha256")
    return ManifestEntry(
        name=name,
        sha256=str(sha).lower() if sha else None,
        size=_count(item.get("bytes", item.get("size"))),
        records=_count(item.get("records")),
    )


def join(folder: str, name: str) -> str:
    """`folder/name` for a local folder or a URL."""
    return name if name.startswith("/") else f"{folder.rstrip('/')}/{name}"


def read_manifest(location: str, names: tuple[str, ...] = MANIFEST_NAMES) -> Manifest | None:
    """The manifest in an output folder, or None when there is none.

    Raises ManifestError when a manifest exists but is unreadable (not a
    file, too large, not JSON); storage failures raise StorageError."""
    if location.startswith("bq://"):
        return None
    for name in names:
        url = join(location, name)
        found = storage.entry(url)
        if found.kind == "missing":
            continue
        if not found.is_file:
            raise ManifestError(f"{name} is a {found.kind}, not a file")
        try:
            data = storage.read_bytes(url, MAX_MANIFEST_BYTES)
        except FileNotFoundError:
            continue
        except storage.StorageUnreachableError:
            raise
        except (OSError, storage.StorageError) as exc:
            raise ManifestError(f"cannot read {name}: {exc}") from exc
        return parse_manifest(data)
    return None


__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_NAMES",
    "Manifest",
    "ManifestEntry",
    "ManifestError",
    "join",
    "parse_manifest",
    "read_manifest",
]
