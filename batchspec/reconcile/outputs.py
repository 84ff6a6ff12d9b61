"""Did a succeeded job's outputs go missing or change?

batchspec keeps the output manifest's own digest in state when it sees the
job succeed (`batchspec.results.manifest`); later, `batchspec drift` re-reads
the manifest and the files. Reading goes through `batchspec.io.storage`, so
`gs://` outputs are read with bounded, interruptible calls, and an entry that
is not a regular file (a directory, a FIFO, a symlink to a device or to
itself) is reported as changed without ever being opened.

Storage that cannot be reached is not drift: `check_outputs` raises
`StorageError` (one line naming the bucket) and the caller reports it.
"""

from __future__ import annotations

import hashlib

from batchspec.io import storage
from batchspec.results.manifest import (
    MANIFEST_NAME,
    ManifestEntry,
    ManifestError,
    join,
    parse_manifest,
    read_manifest,
)

_CHUNK = 1 << 20


def file_sha256(url: str) -> str:
    """Streaming sha256 of one regular file (anything else raises OSError)."""
    digest = hashlib.sha256()
    with storage.open_regular(url) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_outputs(location: str, baseline: str | None) -> list[tuple[str, str]]:
    """Problems with a succeeded job's outputs, as (kind, detail) pairs.

    kind is "missing" or "changed". Without a manifest and without a
    recorded baseline only the folder's existence can be checked. Raises
    StorageError when the storage cannot be reached."""
    if location.startswith("bq://"):
        return []
    folder = storage.entry(location)
    if folder.kind == "missing":
        return [("missing", f"output location {location} is gone")]
    if folder.kind != "directory" and not storage.is_url(location):
        return [("changed", f"output location {location} is a {folder.kind}, not a folder")]
    try:
        manifest = read_manifest(location)
    except ManifestError as exc:
        return [("changed", f"{MANIFEST_NAME} is unreadable: {exc}")]
    if manifest is None:
        return [("missing", f"{MANIFEST_NAME} is gone")] if baseline else []
    problems: list[tuple[str, str]] = []
    if baseline and manifest.digest != baseline:
        problems.append(("changed", f"{MANIFEST_NAME} was rewritten after the job succeeded"))
    for entry in manifest.entries:
        problem = _entry_problem(join(location, entry.name), entry)
        if problem is not None:
            problems.append(problem)
    return problems


def _entry_problem(url: str, entry: ManifestEntry) -> tuple[str, str] | None:
    found = storage.entry(url)
    if found.kind == "missing":
        return ("missing", f"{entry.name} is missing")
    if not found.is_file:
        return ("changed", f"{entry.name} is a {found.kind}, not a file")
    if entry.size is not None and found.size != entry.size:
        return ("changed", f"{entry.name} changed (size differs from the manifest)")
    try:
        if entry.sha256 and file_sha256(url) != entry.sha256:
            return ("changed", f"{entry.name} changed (sha256 differs from the manifest)")
    except FileNotFoundError:
        return ("missing", f"{entry.name} is missing")
    except OSError as exc:
        return ("changed", f"{entry.name} cannot be read: {exc.strerror or exc}")
    return None


# The manifest itself lives in batchspec.results.manifest; these names stay
# importable from here for the controller and drift.
__all__ = ["MANIFEST_NAME", "ManifestError", "check_outputs", "parse_manifest", "read_manifest"]
