"""`tf.train.Example` protobufs, decoded and encoded without TensorFlow.

The message is small and stable (tensorflow/core/example/example.proto):

    Example  { Features features = 1; }
    Features { map<string, Feature> feature = 1; }
    Feature  { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2;
                            Int64List int64_list = 3; } }
    BytesList { repeated bytes value = 1; }
    FloatList { repeated float value = 1 [packed = true]; }
    Int64List { repeated int64 value = 1 [packed = true]; }

so a wire-format reader of ~100 lines replaces a 500 MB dependency. Decoded
features become a JSON object: a feature holding one value becomes that value,
a feature holding several (or none) becomes a list. Bytes that are UTF-8 become
strings; other bytes become `{"b64": ...}`, the services' convention for
binary data.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping, Sequence
from typing import Any

_FLOAT = struct.Struct("<f")


class ExampleDecodeError(ValueError):
    """The bytes are not a tf.train.Example."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ExampleDecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ExampleDecodeError("varint too long")


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) triples of one message."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, wire, value))
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ExampleDecodeError("truncated length-delimited field")
            out.append((number, wire, buf[pos : pos + size]))
            pos += size
        elif wire == 5:
            if pos + 4 > len(buf):
                raise ExampleDecodeError("truncated fixed32 field")
            out.append((number, wire, buf[pos : pos + 4]))
            pos += 4
        elif wire == 1:
            if pos + 8 > len(buf):
                raise ExampleDecodeError("truncated fixed64 field")
            out.append((number, wire, buf[pos : pos + 8]))
            pos += 8
        else:
            raise ExampleDecodeError(f"unsupported wire type {wire}")
    return out


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _bytes_value(raw: bytes) -> Any:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(raw).decode("ascii")}


def _decode_feature(buf: bytes) -> list[Any]:
    values: list[Any] = []
    for number, wire, payload in _fields(buf):
        if wire != 2:
            raise ExampleDecodeError("Feature kinds are length-delimited")
        items = _fields(payload)
        if number == 1:
            values.extend(_bytes_value(v) for n, _, v in items if n == 1)
        elif number == 2:
            for n, w, v in items:
                if n != 1:
                    continue
                if w == 5:  # unpacked float
                    values.append(_FLOAT.unpack(v)[0])
                else:
                    values.extend(x for (x,) in _FLOAT.iter_unpack(v))
        elif number == 3:
            for n, w, v in items:
                if n != 1:
                    continue
                if w == 0:  # unpacked int64
                    values.append(_signed64(v))
                else:
                    pos = 0
                    while pos < len(v):
                        x, pos = _varint(v, pos)
                        values.append(_signed64(x))
    return values


def decode_example(data: bytes) -> dict[str, Any]:
    """The features of a serialized tf.train.Example as a JSON-ready object."""
    out: dict[str, Any] = {}
    for number, wire, features in _fields(data):
        if number != 1 or wire != 2:
            continue
        for n, w, entry in _fields(features):
            if n != 1 or w != 2:
                continue
            name: str | None = None
            values: list[Any] = []
            for en, ew, ev in _fields(entry):
                if en == 1 and ew == 2:
                    try:
                        name = ev.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise ExampleDecodeError("feature name is not UTF-8") from exc
                elif en == 2 and ew == 2:
                    values = _decode_feature(ev)
            if name is None:
                raise ExampleDecodeError("feature without a name")
            out[name] = values[0] if len(values) == 1 else values
    return out


# --- encoding (tests, demo data, and users preparing inputs) -------------------


def _enc_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _enc_varint(number << 3 | 2) + _enc_varint(len(payload)) + payload


def _encode_feature(value: Any) -> bytes:
    values: Sequence[Any] = value if isinstance(value, list | tuple) else [value]
    if all(isinstance(v, bool | int) for v in values) and values:
        packed = b"".join(_enc_varint(int(v)) for v in values)
        return _field(3, _field(1, packed))
    if all(isinstance(v, int | float) for v in values) and values:
        packed = b"".join(_FLOAT.pack(float(v)) for v in values)
        return _field(2, _field(1, packed))
    items = b"".join(_field(1, v if isinstance(v, bytes) else str(v).encode()) for v in values)
    return _field(1, items)


def encode_example(features: Mapping[str, Any]) -> bytes:
    """Serialize a mapping of name -> value(s) as a tf.train.Example.

    ints become an Int64List, floats a FloatList, str/bytes a BytesList.
    """
    entries = b"".join(
        _field(1, _field(1, name.encode()) + _field(2, _encode_feature(value)))
        for name, value in features.items()
    )
    return _field(1, entries)
