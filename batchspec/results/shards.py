"""Reading one output file line by line, counting what is not a record.

Each file is read as bytes, so its sha256 and size can be checked against the
manifest and a line that is not UTF-8 is counted instead of stopping the read.
How a line is parsed depends on what the file holds, never on its name's
suffix alone:

* the results of a job whose output format is CSV (the manifest's
  `outputFormat`, else the spec's `output.format`; Vertex names its CSV files
  `*.csv`): a header row, then one record per row;
* results and errors otherwise: one JSON object per line;
* `prediction.errors_stats-*` of outputs without a batchspec manifest (ML
  Engine): the Dataflow tuple lines `formats.parse_error_stats_line` reads.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO

from batchspec.results.check import FileTally, OutputCheck
from batchspec.results.formats import (
    FileKind,
    csv_record,
    parse_error_stats_line,
    record_from_object,
)
from batchspec.results.manifest import ManifestEntry
from batchspec.results.records import ResultRecord

NOT_UTF8 = "are not UTF-8"
NOT_JSON = "are not JSON"
NOT_OBJECT = "are not JSON objects"
_CHUNK = 1 << 20


def read_shard(
    handle: IO[bytes],
    url: str,
    kind: FileKind,
    *,
    csv_rows: bool,
    tuples: bool,
    check: OutputCheck,
    entry: ManifestEntry | None,
) -> Iterator[ResultRecord]:
    """Every record of one open output file; problems go to `check` once the
    file has been read to its end. `csv_rows`: the file is CSV; `tuples`:
    errors_stats lines may be ML Engine's tuple text."""
    tally = FileTally(entry)
    lines = _lines(handle, tally)
    if csv_rows:
        yield from _csv(lines, url, kind, tally)
    elif kind is FileKind.ERROR_STATS and tuples:
        yield from _stats(lines, url, tally)
    else:
        yield from _objects(lines, url, kind, tally)
    tally.report(url, check)


def _lines(handle: IO[bytes], tally: FileTally) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank UTF-8 line. The file is read,
    hashed and decoded a chunk at a time; only a chunk that is not valid
    UTF-8 is decoded line by line, to count the lines that are not."""
    number = 0
    rest = b""
    while chunk := handle.read(_CHUNK):
        tally.raw(chunk)
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        for text in _decode(data[:cut], number, tally):
            number += 1
            if text is not None and text.strip():
                yield number, text
    if rest:
        (text,) = _decode(rest, number, tally)
        if text is not None and text.strip():
            yield number + 1, text


def _decode(data: bytes, before: int, tally: FileTally) -> list[str | None]:
    """The lines of `data` (whole lines, or the last unterminated one); None
    for a line that is not UTF-8, counted in `tally`."""
    if not data:
        return []
    whole = data.endswith(b"\n")
    try:
        lines: list[str | None] = list(data.decode("utf-8").split("\n"))
    except UnicodeDecodeError:
        lines = []
        for number, raw in enumerate(data.split(b"\n"), before + 1):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                tally.reject(NOT_UTF8, number)
                lines.append(None)
    if whole:
        lines.pop()
    return lines


def _objects(
    lines: Iterator[tuple[int, str]], url: str, kind: FileKind, tally: FileTally
) -> Iterator[ResultRecord]:
    for number, text in lines:
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            tally.reject(NOT_JSON, number)
            continue
        if not isinstance(obj, dict):
            tally.reject(NOT_OBJECT, number)
            continue
        tally.record(text)
        if kind is FileKind.ERROR_STATS:
            record = parse_error_stats_line(text, url)
            if record is not None:
                yield record
        else:
            yield record_from_object(obj, url)


def _stats(lines: Iterator[tuple[int, str]], url: str, tally: FileTally) -> Iterator[ResultRecord]:
    for _, text in lines:
        record = parse_error_stats_line(text, url)
        if record is not None:
            tally.record(text)
            yield record


def _csv(
    lines: Iterator[tuple[int, str]], url: str, kind: FileKind, tally: FileTally
) -> Iterator[ResultRecord]:
    current = [0]

    def texts() -> Iterator[str]:
        for number, text in lines:
            current[0] = number
            yield text + "\n"  # a quoted cell may span lines

    reader = csv.reader(texts())
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            tally.reject("are not CSV", current[0])
            continue
        if header is None:
            header = row
            continue
        if len(row) != len(header):
            tally.reject(f"are not CSV rows of {len(header)} field(s)", current[0])
            continue
        tally.record("\x1f".join(row))
        yield csv_record(dict(zip(header, row, strict=True)), kind, url)


__all__ = ["NOT_JSON", "NOT_OBJECT", "NOT_UTF8", "read_shard"]
