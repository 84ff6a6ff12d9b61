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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

from batchspec.engine import tfrecord
from batchspec.engine.errors import InputError, os_errors
from batchspec.engine.example import ExampleDecodeError, decode_example
from batchspec.engine.plan import Shard
from batchspec.errors import BatchspecError
from batchspec.io import storage
from batchspec.model.enums import DataFormat

Problem = tuple[str, str]  # (google.rpc status name, message)
Item = tuple[int, Any, Problem | None]

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


# Read about this much at a time: small blocks stay in the CPU cache, and a
# block's rows (~180 CSV rows, each a list) stay under the 700 new containers
# that start a collection of the youngest generation, which then traverses
# every live row: 32 KiB blocks spent ~0.7 k instructions per CSV row so.
BLOCK_BYTES = 1 << 13


@dataclass(frozen=True, slots=True)
class Block:
    """Consecutive items of a shard. A clean block (`problems` None) holds
    values that were all read without a problem, in a few C calls per block:
    the engine's fast path. Otherwise every item was read on its own and
    `problems[i]` is its problem or None."""

    numbers: Sequence[int]
    values: list[Any]
    problems: list[Problem | None] | None = None

    def items(self) -> Iterator[Item]:
        """The block as `(number, value, problem)` items."""
        if self.problems is None:
            return zip(self.numbers, self.values, itertools.repeat(None), strict=False)
        return zip(self.numbers, self.values, self.problems, strict=True)


def _open(shard: Shard) -> IO[bytes]:
    with os_errors(
        InputError,
        missing=f"input {shard.uri} disappeared while the job was running",
        hint="restore the file and resume the job",
        failed=f"cannot read input {shard.uri}",
    ):
        handle = storage.open_binary(shard.uri)
    return handle


def line_blocks(shard: Shard) -> Iterator[tuple[int, list[bytes]]]:
    """The shard's lines (each with its newline; only a newline ends a line,
    as when iterating a binary file), about BLOCK_BYTES at a time, each block
    with the number of its first line."""
    for first, data, _ in chunk_blocks(shard):
        yield first, _with_newlines(data)


def chunk_blocks(shard: Shard) -> Iterator[tuple[int, bytes, int]]:
    """The shard's lines about BLOCK_BYTES at a time, uncut: each block as
    the number of its first line, its bytes (whole lines, the file's last
    one perhaps without a newline) and how many lines they hold. Readers that
    parse a whole block in one call (CSV) take it as it is, without a bytes
    object per line."""
    with _open(shard) as fh:
        if shard.start:
            fh.seek(shard.start)
        left = shard.lines
        number = shard.first
        for chunk in _split_chunks(fh):
            data, count = chunk, chunk.count(b"\n") + (not chunk.endswith(b"\n"))
            if left is not None and count > left:
                data, count = b"".join(_with_newlines(chunk)[:left]), left
            if left is not None:
                left -= count
            if count:
                yield number, data, count
                number += count
            if left == 0:
                return


def _split_lines(fh: IO[bytes]) -> Iterator[list[bytes]]:
    """The file's lines, a block at a time."""
    return map(_with_newlines, _split_chunks(fh))


def _split_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes in pieces of whole lines (the last one perhaps
    without its newline)."""
    pending: list[bytes] = []  # the start of a line not finished yet
    while chunk := fh.read(BLOCK_BYTES):
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            pending.append(chunk)
            continue
        head = chunk if cut == len(chunk) else chunk[:cut]
        if pending:
            head = b"".join([*pending, head])
        pending = [chunk[cut:]] if cut < len(chunk) else []
        yield head
    if pending:
        yield b"".join(pending)  # the last line has no newline


def _with_newlines(data: bytes) -> list[bytes]:
    """`data` cut after every newline (its last line may have none)."""
    if 13 not in data:  # no \r (an int: see `read_text`); splitlines would also cut at a lone one
        return data.splitlines(keepends=True)
    pieces = data.split(b"\n")
    last = pieces.pop()  # empty when `data` ends with a newline
    lines = [piece + b"\n" for piece in pieces]
    if last:
        lines.append(last)
    return lines


def _lines(shard: Shard) -> Iterator[tuple[int, bytes]]:
    for first, lines in line_blocks(shard):
        yield from enumerate(lines, start=first)


def jsonl_blocks(shard: Shard) -> Iterator[Block]:
    """JSON lines: a block whose every line decodes is clean; otherwise its
    lines are read one by one (blank lines skipped, bad ones are problems)."""
    decode = msgspec.json.Decoder().decode
    for first, lines in line_blocks(shard):
        try:
            values = list(map(decode, lines))
        except msgspec.DecodeError:
            yield _one_by_one(first, lines, lambda n, line: _jsonl_line(n, line, decode))
            continue
        yield Block(range(first, first + len(lines)), values)


def _jsonl_line(number: int, line: bytes, decode: Callable[[bytes], Any]) -> Item | None:
    try:
        return number, decode(line), None
    except msgspec.DecodeError as exc:
        if not line.strip():
            return None
        return number, raw_text(line), (INVALID, f"malformed JSON: {exc}")


def _one_by_one(first: int, lines: list[bytes], read: Callable[[int, bytes], Item | None]) -> Block:
    numbers: list[int] = []
    values: list[Any] = []
    problems: list[Problem | None] = []
    for number, line in enumerate(lines, start=first):
        item = read(number, line)
        if item is not None:
            numbers.append(item[0])
            values.append(item[1])
            problems.append(item[2])
    return Block(numbers, values, problems)


def read_jsonl(shard: Shard) -> Iterator[Item]:
    """JSON lines."""
    for block in jsonl_blocks(shard):
        yield from block.items()


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


def csv_blocks(shard: Shard, header: list[str]) -> Iterator[Block]:
    """CSV rows as lists (header order); the header itself is skipped.

    A block is decoded and parsed whole, by one csv.reader (the fast path),
    and is clean when it gave one row of the header's width per line; a
    block holding anything unusual (a bad row, a blank line, a quote running
    over a line end) is parsed again line by line to say which line is wrong.
    """
    width = len(header)
    for first, data, count in _csv_chunk_blocks(shard):
        rows = _csv_rows(data, count, width)
        if rows is not None:
            yield Block(range(first, first + count), rows)
        else:
            lines = _with_newlines(data)
            yield _one_by_one(first, lines, lambda n, line: _csv_line(n, line, width))


def _csv_chunk_blocks(shard: Shard) -> Iterator[tuple[int, bytes, int]]:
    if shard.start:
        yield from chunk_blocks(shard)
        return
    # read from the top (a remote file): line 1 is the header
    blocks = chunk_blocks(dataclasses.replace(shard, first=1))
    for first, data, count in blocks:
        if count > 1:
            cut = data.index(b"\n") + 1
            yield first + 1, data[cut:], count - 1
        break
    yield from blocks


def _csv_rows(data: bytes, count: int, width: int) -> list[list[Any]] | None:
    """One row per line of `data` (`count` lines), every row `width` wide, or None.

    The block is decoded in one call and cut at each newline in another, so
    no line is ever a bytes object of its own. The reader takes a line
    without its newline as it takes it with one: the end of the string ends
    the row (a carriage return before it included), and a row that runs
    over a line end gives fewer rows than lines, which is not clean."""
    try:
        texts = data.decode().split("\n")  # UTF-8, strict
        if data.endswith(b"\n"):
            texts.pop()  # the empty piece after the last newline
        rows = list(csv.reader(texts, quoting=csv.QUOTE_NONNUMERIC, strict=True))
    except (UnicodeDecodeError, ValueError, csv.Error):
        return None
    if len(rows) != count or set(map(len, rows)) != {width}:
        return None
    return rows


def read_csv(shard: Shard, header: list[str]) -> Iterator[Item]:
    """CSV rows as lists (header order); the header itself is skipped."""
    for block in csv_blocks(shard, header):
        yield from block.items()


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


BLOCK_ITEMS = 256  # items per block for the formats read one item at a time


def read_blocks(shard: Shard, fmt: DataFormat, *, tf_decode: str = "b64") -> Iterator[Block]:
    """The items of one shard as blocks: JSONL and CSV are read a block at a
    time; the other formats item by item, then grouped."""
    if fmt is DataFormat.JSONL:
        return jsonl_blocks(shard)
    if fmt is DataFormat.CSV:
        return csv_blocks(shard, csv_header(shard.uri))
    return _grouped(read_shard(shard, fmt, tf_decode=tf_decode))


def _grouped(items: Iterator[Item]) -> Iterator[Block]:
    while chunk := list(itertools.islice(items, BLOCK_ITEMS)):
        numbers, values, problems = (list(column) for column in zip(*chunk, strict=True))
        yield Block(numbers, values, problems if any(problems) else None)
