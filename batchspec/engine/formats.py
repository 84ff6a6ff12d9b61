"""Readers: one shard of one input file in, instances (or problems) out.

Each reader yields `(number, value, problem)` tuples: the line or record
number (1-based, absolute in the file), the decoded value, and None, or a
`(status, message)` problem for an instance that cannot be read, which the
engine writes as an error line and counts against the error budget. A reader
raises `InputError` only when the file cannot be read at all.

Formats follow the services (Vertex AI's input requirements):

* JSONL: one JSON value per line; blank lines are skipped.
* TEXT: each line is one string instance (blank lines skipped).
* CSV: a header row, then one row per instance; quoted values are strings,
  unquoted ones are read as numbers (so an unquoted word is an error, as on
  Vertex AI); a row with more or fewer fields than the header is an error.
* TF_RECORD / TF_RECORD_GZIP: each record as `{"b64": ...}`, or decoded
  tf.train.Example features with `tfRecordDecode: example`.
* FILE_LIST: each line names a file (relative names start at the list's
  folder); each file's bytes are one instance `{"b64": ...}`.
* BIGQUERY: each row of the shard's row range, as a list of JSON values in
  column order (dates and times as ISO strings, NUMERIC as float, BYTES as
  base64); like CSV rows, the shaper makes them arrays or objects
  (`table_columns` gives the names).
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import gzip
import itertools
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from batchspec.engine import tfrecord
from batchspec.engine.errors import InputError
from batchspec.engine.example import ExampleDecodeError, decode_example
from batchspec.engine.plan import Shard
from batchspec.errors import BatchspecError
from batchspec.io import storage
from batchspec.model.enums import DataFormat

Item = tuple[int, Any, tuple[str, str] | None]

INVALID = "INVALID_ARGUMENT"
DATA_LOSS = "DATA_LOSS"
NOT_FOUND = "NOT_FOUND"
MAX_RAW_CHARS = 4096


def raw_text(line: bytes) -> str:
    """A bad line as a string for the errors file (cut when very long)."""
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    if len(text) > MAX_RAW_CHARS:
        return text[:MAX_RAW_CHARS] + f"... ({len(text)} characters)"
    return text


def _lines(shard: Shard) -> Iterator[tuple[int, bytes]]:
    try:
        fh = storage.open_binary(shard.uri)
    except FileNotFoundError:
        raise InputError(
            f"input {shard.uri} disappeared while the job was running",
            hint="restore the file and resume the job",
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read input {shard.uri}: {exc}") from exc
    with fh:
        if shard.start:
            fh.seek(shard.start)
        source: Iterator[bytes] = iter(fh)
        if shard.lines is not None:
            source = itertools.islice(source, shard.lines)
        yield from enumerate(source, start=shard.first)


def read_jsonl(shard: Shard) -> Iterator[Item]:
    """JSON lines."""
    decode = msgspec.json.Decoder().decode
    for number, line in _lines(shard):
        try:
            yield number, decode(line), None
        except msgspec.DecodeError as exc:
            if not line.strip():
                continue
            yield number, raw_text(line), (INVALID, f"malformed JSON: {exc}")


def read_text(shard: Shard) -> Iterator[Item]:
    """Each line one string."""
    for number, line in _lines(shard):
        try:
            text = line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            yield number, raw_text(line), (INVALID, f"line is not UTF-8: {exc}")
            continue
        if text:
            yield number, text, None


def csv_header(uri: str) -> list[str]:
    """The header row of a CSV input."""
    try:
        with storage.open_binary(uri) as fh:
            first = fh.readline()
    except OSError as exc:
        raise InputError(f"cannot read input {uri}: {exc}") from exc
    try:
        row = next(csv.reader([first.decode("utf-8")], strict=True), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"the CSV header of {uri} cannot be read: {exc}") from exc
    if not row:
        raise InputError(f"{uri} has no CSV header row", hint="the first line names the columns")
    return row


CSV_CHUNK = 256


def read_csv(shard: Shard, header: list[str]) -> Iterator[Item]:
    """CSV rows as lists (header order); the header itself is skipped.

    Rows are parsed a chunk at a time by one csv.reader (the fast path); a
    chunk holding anything unusual (a bad row, a blank line, a quote running
    over a line end) is parsed again line by line to say which line is wrong.
    """
    width = len(header)
    if shard.start == 0:  # read from the top (a remote file): line 1 is the header
        lines = _lines(dataclasses.replace(shard, first=1))
        next(lines, None)
    else:
        lines = _lines(shard)
    while chunk := list(itertools.islice(lines, CSV_CHUNK)):
        try:
            texts = [line.decode("utf-8") for _, line in chunk]
            rows = list(csv.reader(texts, quoting=csv.QUOTE_NONNUMERIC, strict=True))
        except (UnicodeDecodeError, ValueError, csv.Error):
            rows = []
        if len(rows) == len(chunk) and all(len(row) == width for row in rows):
            for (number, _), row in zip(chunk, rows, strict=True):
                yield number, row, None
        else:
            for number, line in chunk:
                item = _csv_line(number, line, width)
                if item is not None:
                    yield item


def _csv_line(number: int, line: bytes, width: int) -> Item | None:
    """One CSV line parsed on its own: a row, a located problem, or None (blank)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return number, raw_text(line), (INVALID, f"row is not UTF-8: {exc}")
    if not text.strip():
        return None
    try:
        row = next(csv.reader([text], quoting=csv.QUOTE_NONNUMERIC, strict=True))
    except ValueError as exc:  # an unquoted value that is not a number
        return (
            number,
            raw_text(line),
            (
                INVALID,
                f"{exc}: unquoted CSV values are read as numbers (as Vertex AI does);"
                " quote strings",
            ),
        )
    except csv.Error as exc:
        return number, raw_text(line), (INVALID, f"malformed CSV row: {exc}")
    if len(row) != width:
        many = "too many" if len(row) > width else "too few"
        return (
            number,
            raw_text(line),
            (INVALID, f"{many} fields: {len(row)}, the header has {width}"),
        )
    return number, row, None


def _records(shard: Shard, gzipped: bool) -> Iterator[tfrecord.Record]:
    try:
        fh = storage.open_binary(shard.uri)
    except OSError as exc:
        raise InputError(f"cannot read input {shard.uri}: {exc}") from exc
    with fh:
        stream: IO[bytes] = gzip.GzipFile(fileobj=fh) if gzipped else fh  # type: ignore[assignment]
        try:
            yield from tfrecord.read_records(stream)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            yield tfrecord.Record(-1, -1, None, f"gzip stream is corrupt: {exc}", fatal=True)


def read_tfrecord(shard: Shard, *, gzipped: bool, decode: str) -> Iterator[Item]:
    """TFRecord records as `{"b64": ...}` or decoded tf.train.Example objects."""
    last = 0
    for rec in _records(shard, gzipped):
        number = rec.number if rec.number > 0 else last + 1
        last = number
        if rec.data is None:
            where = f"at byte {rec.offset}" if rec.offset >= 0 else "while decompressing"
            rest = "; the rest of the file is skipped" if rec.fatal else ""
            yield number, None, (DATA_LOSS, f"{rec.problem} {where}{rest}")
            continue
        if decode == "example":
            try:
                yield number, decode_example(rec.data), None
            except ExampleDecodeError as exc:
                b64 = {"b64": base64.b64encode(rec.data).decode("ascii")}
                yield number, b64, (INVALID, f"record is not a tf.train.Example: {exc}")
        else:
            yield number, {"b64": base64.b64encode(rec.data).decode("ascii")}, None


def read_file_list(shard: Shard) -> Iterator[Item]:
    """Each listed file's bytes as one `{"b64": ...}` instance."""
    base = shard.uri.rsplit("/", 1)[0] if storage.is_url(shard.uri) else os.path.dirname(shard.uri)
    for number, line in _lines(shard):
        name = line.decode("utf-8", errors="replace").strip()
        if not name:
            continue
        target = name if "://" in name else _join(base, name)
        try:
            with storage.open_binary(target) as fh:
                data = fh.read()
        except FileNotFoundError:
            yield number, name, (NOT_FOUND, f"listed file {target} does not exist")
            continue
        except (OSError, BatchspecError) as exc:
            yield number, name, (NOT_FOUND, f"listed file {target} cannot be read: {exc}")
            continue
        yield number, {"b64": base64.b64encode(data).decode("ascii")}, None


def _join(base: str, name: str) -> str:
    if storage.is_url(base):
        return base.rstrip("/") + "/" + name
    return storage.resolve(name, base=Path(base))


def table_columns(uri: str) -> list[str]:
    """The column names of a BigQuery input, in order."""
    from batchspec.io.bigquery import describe_table

    return list(describe_table(uri).columns)


def read_table(shard: Shard) -> Iterator[Item]:
    """The rows of a BigQuery shard: `lines` rows from row `start` (0-based)."""
    from batchspec.io.bigquery import read_row_values

    _, rows = read_row_values(shard.uri, start=shard.start, count=shard.lines)
    for number, row in enumerate(rows, start=shard.first):
        yield number, row, None


def read_shard(shard: Shard, fmt: DataFormat, *, tf_decode: str = "b64") -> Iterator[Item]:
    """The items of one shard in the given input format."""
    if fmt is DataFormat.JSONL:
        return read_jsonl(shard)
    if fmt is DataFormat.TEXT:
        return read_text(shard)
    if fmt is DataFormat.CSV:
        return read_csv(shard, csv_header(shard.uri))
    if fmt in (DataFormat.TF_RECORD, DataFormat.TF_RECORD_GZIP):
        gz = fmt is DataFormat.TF_RECORD_GZIP
        return read_tfrecord(shard, gzipped=gz, decode=tf_decode)
    if fmt is DataFormat.FILE_LIST:
        return read_file_list(shard)
    if fmt is DataFormat.BIGQUERY:
        return read_table(shard)
    raise InputError(f"the local engine cannot read {fmt.value} input")
