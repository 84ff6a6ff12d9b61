"""What is at a path, without trusting it to be a file.

Output folders get damaged: a shard replaced by a directory, a symlink to
`/dev/zero` or to itself, a FIFO someone made. Opening such a thing blocks
forever (a FIFO), never ends (a device) or fails with an odd errno (a loop),
so anything that reads outputs first asks what an entry *is* (`Entry.kind`)
and opens only regular files, with O_NONBLOCK so that a FIFO swapped in
between the check and the open cannot block either.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import IO

FILE = "file"
MISSING = "missing"


@dataclass(frozen=True)
class Entry:
    """One name in a folder (or one URL) and what it turned out to be.

    `kind` is "file", "missing", "directory", "symlink loop", "broken
    symlink", "FIFO", "character device", "block device", "socket" or
    "unreadable"; `size` is set for files."""

    url: str
    kind: str
    size: int | None = None

    @property
    def name(self) -> str:
        """The last segment of the URL or path."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_file(self) -> bool:
        """True for a regular file (symlinks to one included)."""
        return self.kind == FILE


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def local_entry(path: str) -> Entry:
    """What `path` is, following symlinks (a loop or dangling link says so)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Entry(path, "broken symlink" if os.path.islink(path) else MISSING)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Entry(path, "symlink loop")
        return Entry(path, f"unreadable ({exc.strerror or exc})")
    kind = _kind(st.st_mode)
    return Entry(path, kind, st.st_size if kind == FILE else None)


def local_entries(folder: str) -> list[Entry] | None:
    """Every entry directly in `folder` (any kind), sorted by name; None when
    the folder does not exist."""
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return None
    return [local_entry(os.path.join(folder, n)) for n in names]


def open_regular_local(path: str) -> IO[bytes]:
    """Open a local regular file for reading; anything else raises OSError
    (IsADirectoryError, or EINVAL naming what it is) without blocking."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _kind(mode)
            code = errno.EISDIR if kind == "directory" else errno.EINVAL
            raise OSError(code, f"{kind}, not a file", path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


__all__ = ["FILE", "MISSING", "Entry", "local_entries", "local_entry", "open_regular_local"]
