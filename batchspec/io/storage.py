"""Paths and URLs: the one place batchspec turns a location into files.

Everything that reads or writes a file by path or URL goes through here: the
local engine's readers and output stores, `batchspec.results`, the cloud
backends' output listing and the tests' service double. So there is one way
to get a filesystem for a URL, one set of wildcard rules and one answer to
"what is in this folder".

* Local paths (and `file://` URLs) use the operating system directly: the
  fast path, no fsspec in the loop.
* `gs://` uses gcsfs's core `GCSFileSystem`, built here rather than through
  fsspec's registry: with `STORAGE_EMULATOR_HOST` set (fake-gcs-server) it
  talks to the emulator anonymously and never probes for hierarchical-namespace
  buckets (gcsfs's experimental HNS layer costs a 60 s gRPC timeout per bucket
  against an emulator); otherwise it uses Application Default Credentials.
  Listings are never cached, so a folder written by another process (a
  service, a worker) is seen as it is now. One instance per process: gcsfs
  instances are not fork-safe, and the engine forks workers.
* Any other URL (`memory://`, `s3://`, ...) goes through fsspec's registry.

Filesystem libraries are imported only when such a URL is used.

Wildcards follow Cloud ML Engine's documented rules: at most one `*`, in
the last path segment, either the whole name (`dir/*`: every file in the
folder) or the end of a prefix (`dir/part-*`). Validation enforces that
shape; `expand` lists the matches, sorted by name, files only. Hidden files
(a leading `.`) are skipped: they are editor and tool droppings, never data,
and the engine's own staging folder is one of them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from batchspec.errors import BatchspecError

GCS_SCHEMES = ("gs://", "gcs://")
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
FILE_SCHEME = "file://"
_EXTRAS = {"gcsfs": "gcs"}


class StorageError(BatchspecError):
    """A location that cannot be used: no filesystem for its scheme, nothing
    there, or it cannot be listed."""


# --- what a location is ----------------------------------------------------------------


def is_url(path: str) -> bool:
    """True for `scheme://...` other than `file://`."""
    return "://" in path and not path.startswith(FILE_SCHEME)


def is_gcs(url: str) -> bool:
    """True for `gs://bucket/...` URLs."""
    return url.startswith(GCS_SCHEMES)


def resolve(path: str, base: Path) -> str:
    """An absolute local path or a URL for `path` as written in a spec at `base`.

    Relative paths in a spec start at the spec file's folder, so a spec means
    the same thing from any working directory."""
    if path.startswith(FILE_SCHEME):
        return os.path.normpath(path[len(FILE_SCHEME) :])
    if is_url(path):
        return path
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = base / p
    return os.path.normpath(p)


def strip_scheme(url: str) -> str:
    """`gs://b/k` -> `b/k` (gcsfs paths have no scheme); local paths unchanged."""
    for scheme in GCS_SCHEMES:
        if url.startswith(scheme):
            return url[len(scheme) :]
    return url.removeprefix(FILE_SCHEME)


def with_scheme(url: str, path: str) -> str:
    """The URL of `path` (as a filesystem returned it) on the filesystem of `url`."""
    if "://" in path or not is_url(url):
        return path
    scheme = "gs://" if is_gcs(url) else url.split("://", 1)[0] + "://"
    return scheme + path.lstrip("/")


# --- filesystems -----------------------------------------------------------------------


def emulator_endpoint() -> str | None:
    """The storage emulator's URL, when STORAGE_EMULATOR_HOST names one."""
    host = os.environ.get(EMULATOR_ENV, "").strip()
    if not host or host == "default":
        return None
    return host if host.startswith(("http://", "https://")) else f"http://{host}"


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem that holds `url`, and the path of `url` on it."""
    if is_gcs(url):
        return _gcs(emulator_endpoint(), os.getpid()), strip_scheme(url)
    if not is_url(url):
        return _local(), strip_scheme(url)
    try:
        import fsspec

        fs, inner = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        module = (getattr(exc, "name", None) or "").split(".")[0]
        extra = _EXTRAS.get(module)
        hint = f"pip install 'batchspec[{extra}]'" if extra else "install the fsspec filesystem"
        raise StorageError(f"cannot open {url}: {exc}", hint=hint) from exc
    except ValueError as exc:  # unknown protocol
        raise StorageError(f"cannot open {url}: {exc}") from exc
    return fs, str(inner)


@lru_cache(maxsize=1)
def _local() -> Any:
    import fsspec

    return fsspec.filesystem("file")


@lru_cache(maxsize=4)
def _gcs(endpoint: str | None, pid: int) -> Any:
    """gcsfs for the emulator or for Google; `pid` keys the cache (not fork-safe)."""
    try:
        from gcsfs.core import GCSFileSystem
    except ImportError:
        raise StorageError(
            "reading or writing gs:// needs gcsfs", hint="pip install 'batchspec[gcs]'"
        ) from None
    common = {"skip_instance_cache": True, "use_listings_cache": False}
    if endpoint is not None:
        return GCSFileSystem(token="anon", endpoint_url=endpoint, **common)
    return GCSFileSystem(token="google_default", **common)


# --- reading ---------------------------------------------------------------------------


def open_binary(url: str) -> IO[bytes]:
    """Open a file for reading bytes (caller closes it)."""
    if not is_url(url):
        return open(strip_scheme(url), "rb")
    fs, inner = filesystem(url)
    handle: IO[bytes] = fs.open(inner, "rb")
    return handle


def open_text(url: str) -> IO[str]:
    """Open a file for reading UTF-8 text (caller closes it)."""
    if not is_url(url):
        return open(strip_scheme(url), encoding="utf-8")
    fs, inner = filesystem(url)
    handle: IO[str] = fs.open(inner, "rt", encoding="utf-8")
    return handle


def file_size(url: str) -> int:
    """Size in bytes of a file."""
    if not is_url(url):
        return os.stat(strip_scheme(url)).st_size
    fs, inner = filesystem(url)
    return int(fs.size(inner))


def is_file(url: str) -> bool:
    """True when `url` names an existing file (not a folder)."""
    if not is_url(url):
        return os.path.isfile(strip_scheme(url))
    fs, inner = filesystem(url)
    try:
        return bool(fs.isfile(inner))
    except OSError as exc:
        raise StorageError(f"cannot read {url}: {exc}") from exc


def list_files(directory: str) -> list[str]:
    """Every file directly under `directory` (a URL or a local path), sorted,
    hidden ones included. A folder that does not exist holds no files."""
    return _list(directory.rstrip("/") or "/", "", hidden=True, missing_ok=True)


def _list(folder: str, prefix: str, *, hidden: bool, missing_ok: bool) -> list[str]:
    """Files directly in `folder` whose names start with `prefix`, sorted."""

    def wanted(name: str) -> bool:
        return name.startswith(prefix) and (hidden or not name.startswith("."))

    if not is_url(folder):
        local = strip_scheme(folder)
        try:
            with os.scandir(local) as entries:
                names = [e.name for e in entries if wanted(e.name) and e.is_file()]
        except FileNotFoundError:
            if missing_ok:
                return []
            raise StorageError(
                f"input folder {local} does not exist",
                hint="check `input.paths` (relative paths start at the spec file's folder)",
            ) from None
        except OSError as exc:
            raise StorageError(f"cannot list the folder {local}: {exc}") from exc
        return [os.path.join(local, n) for n in sorted(names)]
    fs, inner = filesystem(folder)
    try:
        listing = fs.ls(inner, detail=True)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot list the folder {folder}: {exc}") from exc
    found = []
    for entry in listing:
        name = str(entry["name"]).rstrip("/")
        if entry.get("type") == "file" and wanted(name.rsplit("/", 1)[-1]):
            found.append(with_scheme(folder, name))
    return sorted(found)


def expand(pattern: str) -> list[str]:
    """The files a path names (ML Engine's wildcard rules), sorted; raises
    StorageError when there are none."""
    if "*" not in pattern:
        if not is_file(pattern):
            raise StorageError(
                f"input {pattern} does not exist",
                hint="check `input.paths` (relative paths start at the spec file's folder)",
            )
        return [pattern]
    folder, name = pattern.rsplit("/", 1)
    matches = _list(folder or "/", name[:-1], hidden=False, missing_ok=False)
    if not matches:
        raise StorageError(
            f"input {pattern} matches no files",
            hint="check `input.paths`; `dir/*` reads every file in dir, `dir/part-*` the"
            " files whose names start with `part-`",
        )
    return matches


def expand_all(patterns: list[str]) -> list[str]:
    """Expand every pattern in order; a file named twice is read once."""
    seen: set[str] = set()
    out = []
    for pattern in patterns:
        for path in expand(pattern):
            if path not in seen:
                seen.add(path)
                out.append(path)
    return out


# --- writing ---------------------------------------------------------------------------


def write_text(url: str, text: str) -> None:
    """Write `text` to `url` in one piece (an object is whole or absent)."""
    fs, inner = filesystem(url)
    if not is_url(url):
        fs.makedirs(os.path.dirname(inner) or ".", exist_ok=True)
    with fs.open(inner, "wt", encoding="utf-8") as handle:
        handle.write(text)


__all__ = [
    "StorageError",
    "emulator_endpoint",
    "expand",
    "expand_all",
    "file_size",
    "filesystem",
    "is_file",
    "is_gcs",
    "is_url",
    "list_files",
    "open_binary",
    "open_text",
    "resolve",
    "strip_scheme",
    "with_scheme",
    "write_text",
]
