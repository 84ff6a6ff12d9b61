"""Shard planning: which slice of which input each output file covers.

The plan is made once, when a job first starts, and saved in the job folder;
a resumed job reuses it, which is what makes a resumed job's output identical
to an uninterrupted one. It depends only on the inputs and the spec, never on
the machine (not on the number of cores), so the same job plans the same way
everywhere.

* Line formats (JSONL, TEXT, CSV, FILE_LIST) in local files are counted and
  split at line boundaries, so a single large file still spreads over all
  workers, every error names its absolute line number, and progress knows
  the total up front. The header of a CSV file is not an instance.
* TF_RECORD files (uncompressed, local) are counted by walking the record
  headers; gzip files and remote files are one shard each, counted as they
  are read.
* A BigQuery table is split into row ranges the same way (its row count is
  in its metadata, one API call): a shard reads `lines` rows from row
  `start`, so a table under MIN_SHARD_LINES rows is one shard and a large one
  spreads over all workers. The last shard reads to the end of the table, so
  rows still in a streaming buffer are not left out (the total is then
  unknown). The table's row count and last-modified time are kept with the
  plan, and a resume refuses a table that changed.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from batchspec.engine.errors import InputError
from batchspec.io import storage
from batchspec.model.enums import DataFormat

LINE_FORMATS = frozenset({DataFormat.JSONL, DataFormat.TEXT, DataFormat.CSV, DataFormat.FILE_LIST})
MIN_SHARD_LINES = 1_000
MAX_SHARD_LINES = 100_000
SHARDS_PER_WORKER = 4
_CHUNK = 1 << 22


@dataclass(frozen=True)
class InputFile:
    """An input file as it was when the job was planned."""

    uri: str
    size: int
    mtime_ns: int | None


@dataclass(frozen=True)
class Shard:
    """A slice of one input file: `lines` lines from byte `start`, the first
    being line (or record) number `first`; `lines` None means to the end."""

    index: int
    uri: str
    start: int = 0
    first: int = 1
    lines: int | None = None


@dataclass(frozen=True)
class ShardPlan:
    """Every shard of a job, in output order, and what the inputs were."""

    files: tuple[InputFile, ...]
    shards: tuple[Shard, ...]
    total: int | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form saved in the job folder."""
        return {
            "files": [asdict(f) for f in self.files],
            "shards": [asdict(s) for s in self.shards],
            "total": self.total,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShardPlan:
        """Read a saved plan."""
        return cls(
            files=tuple(InputFile(**f) for f in data["files"]),
            shards=tuple(Shard(**s) for s in data["shards"]),
            total=data["total"],
        )


def _stat(uri: str) -> InputFile:
    try:
        if storage.is_url(uri):
            return InputFile(uri, storage.file_size(uri), None)
        st = os.stat(uri)
    except OSError as exc:
        raise InputError(f"cannot read input {uri}: {exc}") from exc
    return InputFile(uri, st.st_size, st.st_mtime_ns)


def _count_lines(path: str) -> tuple[int, int]:
    """(number of lines, byte length of the first line) of a local file."""
    lines = 0
    first_len = -1
    pos = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if first_len < 0:
                i = chunk.find(b"\n")
                if i >= 0:
                    first_len = pos + i + 1
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            pos += len(chunk)
    if last != b"\n":
        lines += 1
    return lines, (first_len if first_len >= 0 else pos)


def _line_starts(path: str, start: int, wanted: list[int]) -> list[int]:
    """Byte offsets where the lines with 0-based indexes `wanted` (sorted,
    counted from `start`) begin."""
    found: list[int] = []
    targets = iter(wanted)
    target = next(targets, None)
    line = 0
    pos = start
    with open(path, "rb") as fh:
        fh.seek(start)
        while target is not None and (chunk := fh.read(_CHUNK)):
            n = chunk.count(b"\n")
            while target is not None and line + n >= target:
                p = -1
                for _ in range(target - line):
                    p = chunk.find(b"\n", p + 1)
                found.append(pos + p + 1)
                chunk = chunk[p + 1 :]
                pos += p + 1
                line = target
                n = chunk.count(b"\n")
                target = next(targets, None)
            line += n
            pos += len(chunk)
    return found


def _count_tfrecords(path: str, size: int) -> int | None:
    """Records in an uncompressed local TFRecord file, by walking the length
    headers; None when the framing looks wrong (the reader will say why)."""
    count = 0
    pos = 0
    with open(path, "rb") as fh:
        while pos < size:
            header = fh.read(8)
            if len(header) < 8:
                return None
            (length,) = struct.unpack("<Q", header)
            pos += 16 + length
            if pos > size:
                return None
            fh.seek(pos)
            count += 1
    return count


def lines_per_shard(total: int, max_workers: int, batch_size: int) -> int:
    """Shard size in lines: about four shards per allowed worker, bounded."""
    wanted = math.ceil(total / (max_workers * SHARDS_PER_WORKER)) if total else 1
    return max(MIN_SHARD_LINES, batch_size, min(MAX_SHARD_LINES, wanted))


def plan_shards(
    uris: Iterable[str], fmt: DataFormat, *, max_workers: int, batch_size: int
) -> ShardPlan:
    """Plan the shards of a job over the (already expanded) input files, or
    its BigQuery table."""
    if fmt is DataFormat.BIGQUERY:
        (uri,) = uris
        return plan_table(uri, max_workers=max_workers, batch_size=batch_size)
    files = tuple(_stat(u) for u in uris)
    if fmt in LINE_FORMATS:
        return _plan_lines(files, fmt, max_workers=max_workers, batch_size=batch_size)
    shards = []
    counts: list[int | None] = []
    for i, f in enumerate(files):
        shards.append(Shard(index=i, uri=f.uri))
        local_plain = fmt is DataFormat.TF_RECORD and not storage.is_url(f.uri)
        counts.append(_count_tfrecords(f.uri, f.size) if local_plain else None)
    total = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    return ShardPlan(files, tuple(shards), total)


def _plan_lines(
    files: tuple[InputFile, ...], fmt: DataFormat, *, max_workers: int, batch_size: int
) -> ShardPlan:
    counted: list[tuple[InputFile, int | None, int]] = []
    for f in files:
        if storage.is_url(f.uri):
            counted.append((f, None, 0))
            continue
        try:
            lines, first_len = _count_lines(f.uri)
        except OSError as exc:
            raise InputError(f"cannot read input {f.uri}: {exc}") from exc
        if fmt is DataFormat.CSV:  # the header is not an instance
            counted.append((f, max(lines - 1, 0), first_len))
        else:
            counted.append((f, lines, 0))
    known = [n for _, n, _ in counted if n is not None]
    size = lines_per_shard(sum(known), max_workers, batch_size)
    first_line = 2 if fmt is DataFormat.CSV else 1
    shards: list[Shard] = []
    for f, n, start in counted:
        if n is None:
            shards.append(Shard(len(shards), f.uri, first=first_line))
            continue
        parts = max(1, math.ceil(n / size))
        per = math.ceil(n / parts) if n else 0
        cuts = [k * per for k in range(1, parts)]
        offsets = [start, *_line_starts(f.uri, start, cuts)] if cuts else [start]
        for k, offset in enumerate(offsets):
            lines = min(per, n - k * per) if parts > 1 else n
            shards.append(Shard(len(shards), f.uri, offset, first_line + k * per, lines))
    total = None if len(known) < len(counted) else sum(known)
    return ShardPlan(files, tuple(shards), total)


def _table_stat(uri: str) -> tuple[InputFile, bool]:
    """A table as an InputFile (size: rows; mtime: last modified) and whether
    it has rows in a streaming buffer."""
    from batchspec.io.bigquery import describe_table

    info = describe_table(uri)
    return InputFile(uri, info.rows, info.modified_ns), info.streaming


def plan_table(uri: str, *, max_workers: int, batch_size: int) -> ShardPlan:
    """Row ranges of a BigQuery table (see the module docstring)."""
    table, streaming = _table_stat(uri)
    rows = table.size
    size = lines_per_shard(rows, max_workers, batch_size)
    parts = max(1, math.ceil(rows / size))
    per = math.ceil(rows / parts) if rows else 0
    shards = tuple(
        Shard(k, uri, start=k * per, first=k * per + 1, lines=per if k < parts - 1 else None)
        for k in range(parts)
    )
    return ShardPlan((table,), shards, None if streaming else rows)


def check_unchanged(plan: ShardPlan) -> None:
    """Refuse to resume over inputs that changed since the plan was made:
    shard boundaries are byte (or row) offsets, so the output would be garbage."""
    for f in plan.files:
        now = _table_stat(f.uri)[0] if f.uri.startswith("bq://") else _stat(f.uri)
        if now.size != f.size or (f.mtime_ns is not None and now.mtime_ns != f.mtime_ns):
            raise InputError(
                f"input {f.uri} changed since this job started, so its unfinished shards"
                " cannot be resumed consistently",
                hint="restore the file, or start the job over (`batchspec run --rerun`)",
            )
