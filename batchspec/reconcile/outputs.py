"""Output manifests: did a succeeded job's outputs go missing or change?

The local engine writes `batchspec-manifest.json` into the output folder when
a job ends, listing every output file with its sha256 and size (a plain
`manifest.json` is read too, for outputs written by other tools). batchspec keeps
the manifest's own digest in state when it sees the job succeed; later,
`batchspec drift` re-reads the manifest and the files. Reading goes through
fsspec, so `gs://` outputs work when gcsfs is installed.

Accepted manifest shapes (the engine's is the first):

    {"files": [{"name": "prediction.results-00000-of-00001", "sha256": "...", "bytes": 123,
                "records": 10}], ...}
    {"files": {"prediction.results-00000-of-00001": {"sha256": "...", "size": 123}}}
    {"files": {"prediction.results-00000-of-00001": "<sha256>"}}

(`path` or `file` may stand for `name`; `outputs` for `files`; `size` for
`bytes`.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MANIFEST_NAME = "batchspec-manifest.json"
MANIFEST_NAMES = (MANIFEST_NAME, "manifest.json")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ManifestEntry:
    """One output file as the manifest lists it."""

    name: str
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest plus the digest of its bytes."""

    entries: tuple[ManifestEntry, ...]
    digest: str


class ManifestError(ValueError):
    """The manifest exists but cannot be understood."""


def parse_manifest(data: bytes) -> Manifest:
    """Parse manifest bytes (any accepted shape)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"not JSON: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise ManifestError("not a JSON object")
    files = doc.get("files", doc.get("outputs"))
    if files is None:
        raise ManifestError("no `files` list")
    entries = tuple(_entries(files))
    return Manifest(entries=entries, digest=hashlib.sha256(data).hexdigest())


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


def _entry(item: Mapping[str, Any]) -> ManifestEntry:
    name = item.get("name", item.get("path", item.get("file")))
    if not isinstance(name, str) or not name:
        raise ManifestError("a `files` item has no name")
    sha = item.get("sha256")
    size = item.get("bytes", item.get("size"))
    return ManifestEntry(
        name=name,
        sha256=str(sha).lower() if sha else None,
        size=int(size) if isinstance(size, int) else None,
    )


def _filesystem(location: str) -> tuple[Any, str] | None:
    """(fsspec filesystem, path) for a location, or None when it cannot be read here."""
    if location.startswith("bq://"):
        return None
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(location)
    except (ImportError, ValueError):
        return None
    return fs, str(path).rstrip("/")


def _join(root: str, name: str) -> str:
    return f"{root}/{name}" if not name.startswith("/") else name


def read_manifest(location: str) -> Manifest | None:
    """The manifest in an output folder, or None when there is none.

    Raises ManifestError when a manifest exists but is unreadable.
    """
    found = _filesystem(location)
    if found is None:
        return None
    fs, root = found
    for name in MANIFEST_NAMES:
        path = _join(root, name)
        try:
            with fs.open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ManifestError(f"cannot read {path}: {exc}") from exc
        return parse_manifest(data)
    return None


def file_sha256(fs: Any, path: str) -> str:
    """Streaming sha256 of one file."""
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_outputs(location: str, baseline: str | None) -> list[tuple[str, str]]:
    """Problems with a succeeded job's outputs, as (kind, detail) pairs.

    kind is "missing" or "changed". Without a manifest and without a
    recorded baseline only the folder's existence can be checked.
    """
    found = _filesystem(location)
    if found is None:
        return []
    fs, root = found
    try:
        if not fs.exists(root):
            return [("missing", f"output location {location} is gone")]
        manifest = read_manifest(location)
    except ManifestError as exc:
        return [("changed", f"{MANIFEST_NAME} is unreadable: {exc}")]
    except OSError as exc:
        return [("missing", f"cannot read output location {location}: {exc}")]
    if manifest is None:
        return [("missing", f"{MANIFEST_NAME} is gone")] if baseline else []
    problems: list[tuple[str, str]] = []
    if baseline and manifest.digest != baseline:
        problems.append(("changed", f"{MANIFEST_NAME} was rewritten after the job succeeded"))
    for entry in manifest.entries:
        path = _join(root, entry.name)
        if not fs.exists(path):
            problems.append(("missing", f"{entry.name} is missing"))
            continue
        if entry.size is not None and fs.size(path) != entry.size:
            problems.append(("changed", f"{entry.name} changed (size differs from the manifest)"))
            continue
        if entry.sha256 and file_sha256(fs, path) != entry.sha256:
            problems.append(("changed", f"{entry.name} changed (sha256 differs from the manifest)"))
    return problems
