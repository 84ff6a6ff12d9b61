"""Where a spec's paths point, and what its wildcards match.

Relative paths in a spec (inputs, output, model files, pythonPath) are
relative to the spec file's folder, so a spec means the same thing from any
working directory. Local paths (and `file://` URLs) use the operating system
directly, which is the fast path; any other URL (`gs://`, `memory://`, ...)
goes through fsspec, whose implementations (gcsfs for `gs://`) are imported
only when such a URL is used.

Wildcards follow seed 001: at most one `*`, in the last path segment, either
the whole name (`dir/*`: every file in the folder) or the end of a prefix
(`dir/part-*`). Validation already enforces that shape; here it is expanded,
sorted by name, files only. Hidden files (a leading `.`) are skipped locally:
they are editor and tool droppings, never data, and the engine's own staging
folder is one of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from batchspec.engine.errors import InputError, missing_extra_hint


def is_url(path: str) -> bool:
    """True for `scheme://...` other than `file://`."""
    return "://" in path and not path.startswith("file://")


def resolve(path: str, base: Path) -> str:
    """An absolute local path or a URL for `path` as written in a spec at `base`."""
    if path.startswith("file://"):
        path = path[len("file://") :]
        return os.path.normpath(path)
    if is_url(path):
        return path
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = base / p
    return os.path.normpath(p)


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and in-filesystem path for a URL."""
    try:
        import fsspec

        fs, inner = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        hint = missing_extra_hint(getattr(exc, "name", None) or "gcsfs")
        raise InputError(
            f"cannot open {url}: {exc}", hint=hint or "install the fsspec filesystem for it"
        ) from exc
    except ValueError as exc:  # unknown protocol
        raise InputError(f"cannot open {url}: {exc}") from exc
    return fs, str(inner)


def open_binary(path: str) -> IO[bytes]:
    """Open a resolved input for reading bytes."""
    if not is_url(path):
        return open(path, "rb")
    fs, inner = filesystem(path)
    fh: IO[bytes] = fs.open(inner, "rb")
    return fh


def file_size(path: str) -> int:
    """Size in bytes of a resolved input."""
    if not is_url(path):
        return os.stat(path).st_size
    fs, inner = filesystem(path)
    return int(fs.size(inner))


def _protocol_prefix(url: str) -> str:
    return url.split("://", 1)[0] + "://"


def expand(pattern: str) -> list[str]:
    """The files a resolved input path names, sorted; raises InputError when none."""
    if "*" not in pattern:
        if not _exists_file(pattern):
            raise InputError(
                f"input {pattern} does not exist",
                hint="check `input.paths` (relative paths start at the spec file's folder)",
            )
        return [pattern]
    folder, name = pattern.rsplit("/", 1)
    prefix = name[:-1]
    matches = _list_prefix(folder or "/", prefix, url=is_url(pattern))
    if not matches:
        raise InputError(
            f"input {pattern} matches no files",
            hint="check `input.paths`; `dir/*` reads every file in dir, `dir/part-*` the"
            " files whose names start with `part-`",
        )
    return matches


def _exists_file(path: str) -> bool:
    if not is_url(path):
        return os.path.isfile(path)
    fs, inner = filesystem(path)
    try:
        return bool(fs.isfile(inner))
    except OSError as exc:
        raise InputError(f"cannot read input {path}: {exc}") from exc


def _list_prefix(folder: str, prefix: str, *, url: bool) -> list[str]:
    if not url:
        try:
            entries = os.scandir(folder)
        except FileNotFoundError:
            raise InputError(
                f"input folder {folder} does not exist",
                hint="check `input.paths` (relative paths start at the spec file's folder)",
            ) from None
        except OSError as exc:
            raise InputError(f"cannot list input folder {folder}: {exc}") from exc
        with entries:
            names = [
                e.name
                for e in entries
                if e.name.startswith(prefix) and not e.name.startswith(".") and e.is_file()
            ]
        return [os.path.join(folder, n) for n in sorted(names)]
    fs, inner = filesystem(folder)
    try:
        listing = fs.ls(inner, detail=True)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"cannot list input folder {folder}: {exc}") from exc
    scheme = _protocol_prefix(folder)
    found = []
    for entry in listing:
        name = str(entry["name"]).rstrip("/")
        base = name.rsplit("/", 1)[-1]
        if entry.get("type") == "file" and base.startswith(prefix):
            found.append(name if "://" in name else scheme + name.lstrip("/"))
    return sorted(found)


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
