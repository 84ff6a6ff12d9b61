"""Where results go, and how a shard's files appear there all at once.

A shard's files are written under a temporary name and published under their
final name only when complete, so nothing half-written is ever visible under
`prediction.results-*` or `prediction.errors_stats-*`:

* local folders: written in `<output>/.batchspec-staging/` (hidden, same
  filesystem) and renamed into place, an atomic step;
* any fsspec URL (`gs://...`): written in the job folder and uploaded under
  the final name when complete; an object upload is atomic on Cloud Storage;
* a BigQuery destination (`engine/tables.py`): published as files in the job
  folder, then loaded into the tables in one atomic load job each when the
  job ends (`commit`).

The stores are plain picklable values: each worker process uses its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from batchspec.engine.errors import OutputError
from batchspec.io import storage
from batchspec.results.formats import is_shard_name

MANIFEST_NAME = "batchspec-manifest.json"
STAGING_NAME = ".batchspec-staging"


def is_result_name(name: str) -> bool:
    """True for the names a job writes (shard files and the manifest)."""
    return is_shard_name(name) or name == MANIFEST_NAME


@dataclass(frozen=True)
class FileInfo:
    """A published output file: name, sha256, bytes, records."""

    name: str
    sha256: str
    bytes: int
    records: int


class OutputFile:
    """A file being written in staging, hashed and counted as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in finish/abort
        self._sha = hashlib.sha256()
        self.bytes = 0
        self.records = 0

    def write(self, data: bytes, records: int) -> None:
        """Append `records` records encoded as `data`."""
        self._fh.write(data)
        self._sha.update(data)
        self.bytes += len(data)
        self.records += records

    def finish(self, name: str) -> FileInfo:
        """Flush to disk and describe the file."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        return FileInfo(name, self._sha.hexdigest(), self.bytes, self.records)

    def abort(self) -> None:
        """Drop the partial file."""
        self._fh.close()
        self.path.unlink(missing_ok=True)


class OutputStore(Protocol):
    """A job's output folder."""

    @property
    def location(self) -> str:
        """The folder: an absolute path or a URL."""
        ...

    def prepare(self) -> None:
        """Create the folder and prove it is writable (raises OutputError)."""
        ...

    def existing(self) -> list[str]:
        """Names of result files (or a manifest) already in the folder."""
        ...

    def remove(self, names: list[str]) -> None:
        """Delete result files (for `overwrite: true`)."""
        ...

    def staging_file(self, name: str) -> Path:
        """A fresh local path to write `name` into before publishing it."""
        ...

    def publish(self, staged: Path, name: str) -> None:
        """Make a complete staged file visible under `name`."""
        ...

    def size(self, name: str) -> int | None:
        """Size of a published file, None when absent."""
        ...

    def clear_staging(self) -> None:
        """Remove leftovers of interrupted shards."""
        ...

    def drop_empty_staging(self) -> None:
        """Remove the staging folder only if it is empty (a job that was refused
        the folder must not touch another job's files)."""
        ...

    def url(self, name: str) -> str:
        """Where a published file is, for users."""
        ...

    def commit(self, names: list[str], completed: int, failed: int) -> None:
        """Make a successful job's published files visible where a shard
        cannot be published on its own (a BigQuery table); files: nothing to do."""
        ...

    def outputs(self, names: list[str]) -> list[str]:
        """Where the job's published outputs (of these file names) are, for users."""
        ...


def _writable_error(where: str, exc: OSError) -> OutputError:
    return OutputError(
        f"cannot write to the output folder {where}: {exc.strerror or exc}",
        hint="choose a writable `output.path`, or fix the folder's permissions",
    )


@dataclass(frozen=True)
class LocalStore:
    """A local output folder; staging inside it, rename to publish."""

    location: str

    @property
    def _staging(self) -> Path:
        return Path(self.location) / STAGING_NAME

    def prepare(self) -> None:
        """Create the output and staging folders; write a probe file."""
        folder = Path(self.location)
        if folder.exists() and not folder.is_dir():
            raise OutputError(
                f"the output path {folder} is a file, not a folder",
                hint="`output.path` names a folder that will hold the result files",
            )
        try:
            self._staging.mkdir(parents=True, exist_ok=True)
            probe = self._staging / f".probe-{secrets.token_hex(4)}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise _writable_error(str(folder), exc) from exc

    def existing(self) -> list[str]:
        """Result names in the folder."""
        try:
            return sorted(n for n in os.listdir(self.location) if is_result_name(n))
        except FileNotFoundError:
            return []

    def remove(self, names: list[str]) -> None:
        """Delete the named results."""
        for n in names:
            try:
                (Path(self.location) / n).unlink(missing_ok=True)
            except OSError as exc:
                raise _writable_error(self.location, exc) from exc

    def staging_file(self, name: str) -> Path:
        """`.batchspec-staging/<name>.<random>` inside the output folder."""
        self._staging.mkdir(parents=True, exist_ok=True)
        return self._staging / f"{name}.{secrets.token_hex(4)}"

    def publish(self, staged: Path, name: str) -> None:
        """Atomic rename into place."""
        os.replace(staged, Path(self.location) / name)

    def size(self, name: str) -> int | None:
        """Size or None."""
        try:
            return os.stat(Path(self.location) / name).st_size
        except FileNotFoundError:
            return None

    def clear_staging(self) -> None:
        """Remove the staging folder."""
        shutil.rmtree(self._staging, ignore_errors=True)

    def drop_empty_staging(self) -> None:
        """rmdir, which refuses a folder that is not empty."""
        with contextlib.suppress(OSError):
            self._staging.rmdir()

    def url(self, name: str) -> str:
        """Absolute path."""
        return str(Path(self.location) / name)

    def commit(self, names: list[str], completed: int, failed: int) -> None:
        """Published files are the output."""

    def outputs(self, names: list[str]) -> list[str]:
        """The files that are in place."""
        return [self.url(n) for n in names if self.size(n) is not None]


@dataclass(frozen=True)
class FsspecStore:
    """A remote folder (`gs://...`); staged in the job folder, uploaded whole."""

    location: str
    staging: str

    def _fs(self) -> tuple[object, str]:
        fs, inner = storage.filesystem(self.location)
        return fs, inner.rstrip("/")

    def prepare(self) -> None:
        """Make the staging folder and check the destination can be written."""
        Path(self.staging).mkdir(parents=True, exist_ok=True)
        fs, inner = self._fs()
        probe = f"{inner}/{STAGING_NAME}-probe-{secrets.token_hex(4)}"
        try:
            fs.makedirs(inner, exist_ok=True)  # type: ignore[attr-defined]
            fs.pipe_file(probe, b"")  # type: ignore[attr-defined]
            fs.rm_file(probe)  # type: ignore[attr-defined]
        except OSError as exc:
            raise _writable_error(self.location, exc) from exc

    def existing(self) -> list[str]:
        """Result names under the URL."""
        fs, inner = self._fs()
        try:
            names = fs.ls(inner, detail=False)  # type: ignore[attr-defined]
        except FileNotFoundError:
            return []
        return sorted(n for n in (str(x).rstrip("/").rsplit("/", 1)[-1] for x in names)
                      if is_result_name(n))  # fmt: skip

    def remove(self, names: list[str]) -> None:
        """Delete the named results."""
        fs, inner = self._fs()
        for n in names:
            with contextlib.suppress(FileNotFoundError):
                fs.rm_file(f"{inner}/{n}")  # type: ignore[attr-defined]

    def staging_file(self, name: str) -> Path:
        """A file in the job's local staging folder."""
        Path(self.staging).mkdir(parents=True, exist_ok=True)
        return Path(self.staging) / f"{name}.{secrets.token_hex(4)}"

    def publish(self, staged: Path, name: str) -> None:
        """Upload the complete file, then drop the local copy."""
        fs, inner = self._fs()
        try:
            fs.put_file(str(staged), f"{inner}/{name}")  # type: ignore[attr-defined]
        except OSError as exc:
            raise _writable_error(self.location, exc) from exc
        staged.unlink(missing_ok=True)

    def size(self, name: str) -> int | None:
        """Size or None."""
        fs, inner = self._fs()
        try:
            return int(fs.size(f"{inner}/{name}"))  # type: ignore[attr-defined]
        except FileNotFoundError:
            return None

    def clear_staging(self) -> None:
        """Remove the local staging folder."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def drop_empty_staging(self) -> None:
        """The staging folder is the job's own: remove it."""
        self.clear_staging()

    def url(self, name: str) -> str:
        """The object's URL."""
        return f"{self.location.rstrip('/')}/{name}"

    def commit(self, names: list[str], completed: int, failed: int) -> None:
        """Published objects are the output."""

    def outputs(self, names: list[str]) -> list[str]:
        """The objects that are in place."""
        return [self.url(n) for n in names if self.size(n) is not None]
