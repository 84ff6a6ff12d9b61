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

Filesystem libraries are imported only when such a URL is used. Every call
to a remote filesystem made here is bounded and interruptible
(`batchspec.io.guard`: timeouts and attempts from the environment, a stop
event, one-line errors naming the bucket); gcsfs itself is built with those
timeouts and attempts, so the engine's direct calls on it are bounded too.

Wildcards follow Cloud ML Engine's documented rules: at most one `*`, in
the last path segment, either the whole name (`dir/*`: every file in the
folder) or the end of a prefix (`dir/part-*`). Validation enforces that
shape; `expand` lists the matches, sorted by name, files only. Hidden files
(a leading `.`) are skipped: they are editor and tool droppings, never data,
and the engine's own staging folder is one of them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, TypeVar

from batchspec.io import guard
from batchspec.io.entries import Entry, local_entries, local_entry, open_regular_local
from batchspec.io.guard import StorageError, StorageInterruptedError, StorageUnreachableError

GCS_SCHEMES = ("gs://", "gcs://")
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
GOOGLE_STORAGE = "https://storage.googleapis.com"
FILE_SCHEME = "file://"
_EXTRAS = {"gcsfs": "gcs"}
_READ_BUFFER = 1 << 20

T = TypeVar("T")


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


def endpoint_of(url: str) -> str:
    """The service a URL's calls go to, as messages name it."""
    if is_gcs(url):
        return emulator_endpoint() or GOOGLE_STORAGE
    return url.split("://", 1)[0] + "://" if is_url(url) else "local disk"


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem that holds `url`, and the path of `url` on it."""
    if is_gcs(url):
        endpoint, bounds = emulator_endpoint(), guard.limits()
        key = (endpoint, os.getpid(), bounds)
        fs = _GCS.get(key)
        if fs is None:
            fs = _remote(url, "set up the Cloud Storage client", _gcs(endpoint, bounds))
            _GCS.clear()  # one instance per process: an older one belongs to a parent
            _GCS[key] = fs
        return fs, strip_scheme(url)
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


# (endpoint, pid, limits) -> gcsfs instance; gcsfs instances are not fork-safe.
_GCS: dict[tuple[str | None, int, guard.Limits], Any] = {}


def _gcs(endpoint: str | None, bounds: guard.Limits) -> Callable[[], Any]:
    """What builds gcsfs for the emulator or for Google, every request bounded
    by `bounds` (imported now; built under the call's deadline)."""
    try:
        import gcsfs.core  # noqa: F401 - a clear message when the extra is missing

        from batchspec.io.gcs import bounded_gcsfs
    except ImportError:
        raise StorageError(
            "reading or writing gs:// needs gcsfs", hint="pip install 'batchspec[gcs]'"
        ) from None
    return bounded_gcsfs(endpoint, bounds)


def _remote(url: str, what: str, fn: Callable[[], T]) -> T:
    """A call on a remote filesystem, bounded and interruptible (`guard.run`)."""
    return guard.run(fn, url=url, what=what, endpoint=endpoint_of(url))


def _name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] or url


# --- reading ---------------------------------------------------------------------------


class _GuardedReader(io.RawIOBase):
    """A remote file whose every read is a bounded, interruptible call."""

    def __init__(self, handle: Any, url: str) -> None:
        self._handle = handle
        self._url = url

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._handle.seekable())

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self._handle.tell())

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = _remote(self._url, f"read {_name(self._url)}", lambda: self._handle.read(len(view)))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
        super().close()


def open_binary(url: str) -> IO[bytes]:
    """Open a file for reading bytes (caller closes it)."""
    if not is_url(url):
        return open(strip_scheme(url), "rb")
    fs, inner = filesystem(url)
    handle = _remote(url, f"open {_name(url)}", lambda: fs.open(inner, "rb"))
    return io.BufferedReader(_GuardedReader(handle, url), buffer_size=_READ_BUFFER)


def open_text(url: str) -> IO[str]:
    """Open a file for reading UTF-8 text (caller closes it)."""
    if not is_url(url):
        return open(strip_scheme(url), encoding="utf-8")
    return io.TextIOWrapper(open_binary(url), encoding="utf-8")


def open_regular(url: str) -> IO[bytes]:
    """Like `open_binary`, but a local path that is not a regular file (a
    directory, FIFO, device, symlink loop) raises OSError instead of blocking
    or reading forever."""
    if not is_url(url):
        return open_regular_local(strip_scheme(url))
    return open_binary(url)


def read_bytes(url: str, limit: int) -> bytes:
    """A small file's bytes (a manifest); more than `limit` bytes is an error."""
    with open_regular(url) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise StorageError(f"{url} is larger than {limit} bytes; it is not a manifest")
    return data


def file_size(url: str) -> int:
    """Size in bytes of a file."""
    if not is_url(url):
        return os.stat(strip_scheme(url)).st_size
    fs, inner = filesystem(url)
    return int(_remote(url, f"read the size of {_name(url)}", lambda: fs.size(inner)))


def is_file(url: str) -> bool:
    """True when `url` names an existing file (not a folder)."""
    if not is_url(url):
        return os.path.isfile(strip_scheme(url))
    fs, inner = filesystem(url)
    try:
        return bool(_remote(url, f"look up {_name(url)}", lambda: fs.isfile(inner)))
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"cannot read {url}: {exc}") from exc


def entry(url: str) -> Entry:
    """What `url` is: a file (with its size), a folder, missing, or (on local
    disk) a symlink loop, a FIFO, a device..."""
    if not is_url(url):
        found = local_entry(strip_scheme(url))
        return Entry(url, found.kind, found.size)
    fs, inner = filesystem(url)
    try:
        info = _remote(url, f"look up {_name(url)}", lambda: fs.info(inner))
    except FileNotFoundError:
        return Entry(url, "missing")
    if info.get("type") == "directory":
        return Entry(url, "directory")
    return Entry(url, "file", int(info.get("size") or 0))


def entries(folder: str) -> list[Entry] | None:
    """Every entry directly in `folder`, of any kind, sorted by name; None
    when the folder does not exist."""
    folder = folder.rstrip("/") or "/"
    if not is_url(folder):
        try:
            return local_entries(strip_scheme(folder))
        except NotADirectoryError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot list the folder {folder}: {exc.strerror or exc}") from exc
    fs, inner = filesystem(folder)
    try:
        listing = _remote(folder, f"list {inner}", lambda: fs.ls(inner, detail=True))
    except FileNotFoundError:
        return None
    out = []
    for item in listing:
        name = str(item["name"]).rstrip("/")
        kind = "file" if item.get("type") == "file" else "directory"
        size = int(item.get("size") or 0) if kind == "file" else None
        out.append(Entry(with_scheme(folder, name), kind, size))
    return sorted(out, key=lambda e: e.name)


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
            with os.scandir(local) as items:
                names = [e.name for e in items if wanted(e.name) and e.is_file()]
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
        listing = _remote(folder, f"list {inner}", lambda: fs.ls(inner, detail=True))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot list the folder {folder}: {exc}") from exc
    found = []
    for item in listing:
        name = str(item["name"]).rstrip("/")
        if item.get("type") == "file" and wanted(name.rsplit("/", 1)[-1]):
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
        return
    data = text.encode("utf-8")
    _remote(url, f"write {_name(url)}", lambda: fs.pipe_file(inner, data))


__all__ = [
    "Entry",
    "StorageError",
    "StorageInterruptedError",
    "StorageUnreachableError",
    "emulator_endpoint",
    "endpoint_of",
    "entries",
    "entry",
    "expand",
    "expand_all",
    "file_size",
    "filesystem",
    "is_file",
    "is_gcs",
    "is_url",
    "list_files",
    "open_binary",
    "open_regular",
    "open_text",
    "read_bytes",
    "resolve",
    "strip_scheme",
    "with_scheme",
    "write_text",
]
