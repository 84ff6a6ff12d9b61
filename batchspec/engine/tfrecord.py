"""TFRecord framing, read and written without TensorFlow.

Each record is: uint64 little-endian length, masked crc32c of those 8 bytes,
the data, masked crc32c of the data; mask = ((crc >> 15) | (crc << 17)) +
0xa282ead8 (mod 2**32). Both checksums are verified (the `tfrecord` package's
reader verifies neither). A bad data checksum spoils one record and reading
goes on; a bad length checksum or a truncated file loses the framing, so the
rest of that file cannot be trusted and reading it stops.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import crc32c

_MASK_DELTA = 0xA282EAD8
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def masked_crc(data: bytes) -> int:
    """The masked crc32c TFRecord stores."""
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One framed record."""
    length = _U64.pack(len(data))
    return length + _U32.pack(masked_crc(length)) + data + _U32.pack(masked_crc(data))


@dataclass(frozen=True)
class Record:
    """A record or a framing problem at record number `number` (1-based)."""

    number: int
    offset: int
    data: bytes | None
    problem: str | None = None
    fatal: bool = False


def read_records(fh: IO[bytes]) -> Iterator[Record]:
    """Records of an (already decompressed) TFRecord stream, checksums verified."""
    number = 0
    offset = 0
    while True:
        header = fh.read(12)
        if not header:
            return
        number += 1
        if len(header) < 12:
            yield Record(number, offset, None, "truncated record header", fatal=True)
            return
        length_bytes = header[:8]
        (length,) = _U64.unpack(length_bytes)
        (length_crc,) = _U32.unpack(header[8:])
        if masked_crc(length_bytes) != length_crc:
            yield Record(
                number, offset, None, "length checksum mismatch (framing lost)", fatal=True
            )
            return
        body = fh.read(length + 4)
        if len(body) < length + 4:
            yield Record(number, offset, None, "truncated record data", fatal=True)
            return
        data = body[:length]
        (data_crc,) = _U32.unpack(body[length:])
        if masked_crc(data) != data_crc:
            yield Record(number, offset, None, "data checksum mismatch (crc32c)")
        else:
            yield Record(number, offset, data)
        offset += 12 + length + 4
