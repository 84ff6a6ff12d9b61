"""Files on local disk and on `gs://`, through fsspec, with the emulator handled.

`filesystem(url)` returns the fsspec filesystem for a URL or path. For `gs://`
it builds gcsfs's core `GCSFileSystem` itself, so that:

* with `STORAGE_EMULATOR_HOST` set (fake-gcs-server, the tests), it talks to
  the emulator anonymously and never probes for hierarchical-namespace
  buckets (gcsfs's experimental HNS layer costs a 60 s gRPC timeout per
  bucket against an emulator);
* otherwise it uses Application Default Credentials (`token="google_default"`).

gcsfs is imported only when a `gs://` URL is used.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

GCS_SCHEMES = ("gs://", "gcs://")
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"


def is_gcs(url: str) -> bool:
    """True for `gs://bucket/...` URLs."""
    return url.startswith(GCS_SCHEMES)


def emulator_endpoint() -> str | None:
    """The storage emulator's URL, when STORAGE_EMULATOR_HOST names one."""
    host = os.environ.get(EMULATOR_ENV, "").strip()
    if not host or host == "default":
        return None
    return host if host.startswith(("http://", "https://")) else f"http://{host}"


def filesystem(url: str) -> Any:
    """The fsspec filesystem that holds `url`."""
    if is_gcs(url):
        return _gcs(emulator_endpoint())
    import fsspec

    return fsspec.filesystem("file")


@lru_cache(maxsize=4)
def _gcs(endpoint: str | None) -> Any:
    from batchspec.errors import BatchspecError

    try:
        from gcsfs.core import GCSFileSystem
    except ImportError:
        raise BatchspecError(
            "reading gs:// needs gcsfs", hint="pip install 'batchspec[gcs]'"
        ) from None
    if endpoint is not None:
        return GCSFileSystem(token="anon", endpoint_url=endpoint, skip_instance_cache=True)
    return GCSFileSystem(token="google_default")


def strip_scheme(url: str) -> str:
    """`gs://b/k` -> `b/k` (fsspec paths have no scheme); local paths unchanged."""
    for scheme in GCS_SCHEMES:
        if url.startswith(scheme):
            return url[len(scheme) :]
    return url.removeprefix("file://")


def with_scheme(url: str, path: str) -> str:
    """Put the scheme of `url` back on a path fsspec returned."""
    if is_gcs(url):
        return "gs://" + path.lstrip("/")
    return path


def list_files(directory: str) -> list[str]:
    """Every file directly under `directory` (a gs:// URL or a local path), sorted.

    A directory that does not exist holds no files."""
    fs = filesystem(directory)
    base = strip_scheme(directory).rstrip("/")
    try:
        entries = (
            fs.ls(base, detail=True, refresh=True)
            if is_gcs(directory)
            else fs.ls(base, detail=True)
        )
    except FileNotFoundError:
        return []
    files = [e["name"] for e in entries if e.get("type") == "file"]
    return sorted(with_scheme(directory, f) for f in files)


def open_text(url: str) -> Any:
    """A text-mode file object for reading `url` (caller closes it)."""
    fs = filesystem(url)
    return fs.open(strip_scheme(url), "rt", encoding="utf-8")


def write_text(url: str, text: str) -> None:
    """Write `text` to `url` in one piece (an object is whole or absent)."""
    fs = filesystem(url)
    with fs.open(strip_scheme(url), "wt", encoding="utf-8") as handle:
        handle.write(text)


__all__ = [
    "emulator_endpoint",
    "filesystem",
    "is_gcs",
    "list_files",
    "open_text",
    "strip_scheme",
    "with_scheme",
    "write_text",
]
