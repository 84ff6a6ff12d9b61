"""The input snapshot of an input-triggered spec: which objects, which versions.

A spec with `trigger: inputs` runs again when the set of its input objects
changes. What counts as the same object: on Cloud Storage its name and
generation (a rewrite of an object gives it a new generation; the etag or
md5 stand in where a listing lacks it), on local disk its name, size and
modification time. The snapshot is a sha256 over those lines, sorted: it is
part of the run's identity, so the same inputs never run twice.

One listing per input folder, bounded like every other storage call
(`batchspec.io.guard`); a failure raises StorageError and the caller runs
nothing (a half-listed folder must never look like a change).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchspec.io import guard
from batchspec.io.guard import StorageError
from batchspec.io.storage import endpoint_of, filesystem, is_url, resolve, strip_scheme


@dataclass(frozen=True)
class Snapshot:
    """The digest of an input set and how many objects it holds."""

    digest: str
    count: int


def snapshot(patterns: list[str], base: Path) -> Snapshot:
    """List every input of `patterns` (relative ones from `base`, the spec's
    folder) with its version; StorageError when a listing fails or a pattern
    matches nothing."""
    lines: set[str] = set()
    for pattern in patterns:
        found = _versions(resolve(pattern, base))
        if not found:
            raise StorageError(
                f"input {pattern} matches no files yet",
                hint="the trigger runs once the inputs exist",
            )
        lines.update(found)
    digest = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    return Snapshot(digest, len(lines))


def _versions(pattern: str) -> list[str]:
    folder, _, name = pattern.rpartition("/")
    prefix = name[:-1] if name.endswith("*") else None
    if not is_url(pattern):
        return _local(strip_scheme(folder) or "/", name, prefix)
    fs, inner = filesystem(pattern)
    where = inner.rpartition("/")[0] if prefix is not None else inner

    def listing() -> Any:
        try:
            return fs.ls(where, detail=True) if prefix is not None else [fs.info(where)]
        except FileNotFoundError:
            return []

    items = guard.run(listing, url=pattern, what=f"list {where}", endpoint=endpoint_of(pattern))
    out = []
    for item in items:
        path = str(item.get("name", "")).rstrip("/")
        base = path.rsplit("/", 1)[-1]
        if item.get("type") != "file" or base.startswith("."):
            continue
        if prefix is not None and not base.startswith(prefix):
            continue
        version = item.get("generation") or item.get("etag") or item.get("md5Hash") or ""
        out.append(f"{path}\t{version}\t{item.get('size', '')}")
    return out


def _local(folder: str, name: str, prefix: str | None) -> list[str]:
    try:
        if prefix is None:
            paths = [os.path.join(folder, name)]
        else:
            with os.scandir(folder) as items:
                paths = [
                    e.path
                    for e in items
                    if e.name.startswith(prefix) and not e.name.startswith(".") and e.is_file()
                ]
        out = []
        for path in paths:
            try:
                info = os.stat(path)
            except FileNotFoundError:
                continue
            out.append(f"{path}\t{info.st_size}\t{info.st_mtime_ns}")
        return out
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot list the input folder {folder}: {exc}") from exc
