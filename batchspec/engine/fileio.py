"""Small durable-file helpers: atomic JSON writes and reads.

Every record the engine keeps (job, status, plan, shard results, manifest) is
written to a temporary file in the same folder and renamed over the final
name, so a reader sees the old or the new content, never half of one, even
when the writer is killed with SIGKILL in the middle.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO, Any

import msgspec

_ENCODER = msgspec.json.Encoder(order="deterministic")


def write_bytes_atomic(
    path: Path, data: bytes, *, durable: bool = True, mode: int | None = None
) -> None:
    """Write `data` to `path` through a temporary name and a rename.

    `durable` also fsyncs the file before the rename, so the rename never
    publishes a file whose content is still only in the page cache; progress
    updates skip it (losing one of those to a power cut is harmless). `mode`
    (e.g. 0o600 for a job record) is set when the file is created, so the
    content is never readable by others, not even for a moment.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with _create(tmp, mode) as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create(path: Path, mode: int | None) -> IO[bytes]:
    if mode is None:
        return open(path, "wb")
    fh = open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb")  # noqa: SIM115
    os.fchmod(fh.fileno(), mode)  # whatever the umask
    return fh


def encode_json(value: Any) -> bytes:
    """Stable JSON: sorted keys, so records diff cleanly and hash the same."""
    return _ENCODER.encode(value) + b"\n"


def write_json_atomic(
    path: Path, value: Any, *, durable: bool = True, mode: int | None = None
) -> None:
    """Atomically replace `path` with `value` as JSON."""
    write_bytes_atomic(path, encode_json(value), durable=durable, mode=mode)


def read_json(path: Path) -> Any:
    """Read a JSON record written by `write_json_atomic`."""
    return msgspec.json.decode(path.read_bytes())


def read_json_or_none(path: Path) -> Any:
    """The record, or None when the file does not exist."""
    try:
        return read_json(path)
    except FileNotFoundError:
        return None
