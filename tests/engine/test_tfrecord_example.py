"""TFRecord framing with crc32c, and tf.train.Example decoding without TensorFlow."""

from __future__ import annotations

import io
import struct

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from batchspec.engine.example import ExampleDecodeError, decode_example, encode_example
from batchspec.engine.tfrecord import encode_record, masked_crc, read_records


def test_masked_crc_is_tensorflows_mask_of_crc32c() -> None:
    crc = 0xE3069283  # the published crc32c check value of b"123456789"
    expected = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert masked_crc(b"123456789") == expected


def test_records_round_trip() -> None:
    blob = b"".join(encode_record(d) for d in [b"a", b"", b"x" * 1000])
    records = list(read_records(io.BytesIO(blob)))
    assert [r.data for r in records] == [b"a", b"", b"x" * 1000]
    assert [r.number for r in records] == [1, 2, 3]


def test_data_crc_mismatch_spoils_one_record_only() -> None:
    good, bad = encode_record(b"first"), bytearray(encode_record(b"second"))
    bad[12] ^= 0xFF  # flip a data byte
    blob = good + bytes(bad) + encode_record(b"third")
    records = list(read_records(io.BytesIO(blob)))
    assert [r.data for r in records] == [b"first", None, b"third"]
    assert "data checksum mismatch" in (records[1].problem or "")
    assert not records[1].fatal


def test_length_crc_mismatch_stops_the_file() -> None:
    bad = bytearray(encode_record(b"second"))
    bad[8] ^= 0x01  # the length's checksum
    blob = encode_record(b"first") + bytes(bad) + encode_record(b"third")
    records = list(read_records(io.BytesIO(blob)))
    assert [r.data for r in records] == [b"first", None]
    assert records[1].fatal and "framing lost" in (records[1].problem or "")


def test_truncated_file_is_reported() -> None:
    blob = encode_record(b"first") + encode_record(b"second")[:-3]
    records = list(read_records(io.BytesIO(blob)))
    assert records[-1].problem == "truncated record data"


def _example_class() -> type:
    """tf.train.Example built from its .proto description with protobuf itself."""
    fdp = descriptor_pb2.FileDescriptorProto(name="ex.proto", package="tf", syntax="proto3")
    T = descriptor_pb2.FieldDescriptorProto

    def msg(name: str, *fields: tuple[str, int, int, int, str | None]) -> None:
        m = fdp.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            f = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = type_name

    rep, opt = T.LABEL_REPEATED, T.LABEL_OPTIONAL
    msg("BytesList", ("value", 1, T.TYPE_BYTES, rep, None))
    msg("FloatList", ("value", 1, T.TYPE_FLOAT, rep, None))
    msg("Int64List", ("value", 1, T.TYPE_INT64, rep, None))
    msg(
        "Feature",
        ("bytes_list", 1, T.TYPE_MESSAGE, opt, ".tf.BytesList"),
        ("float_list", 2, T.TYPE_MESSAGE, opt, ".tf.FloatList"),
        ("int64_list", 3, T.TYPE_MESSAGE, opt, ".tf.Int64List"),
    )
    entry = fdp.message_type.add(name="Features")
    entry.field.add(
        name="feature",
        number=1,
        type=T.TYPE_MESSAGE,
        label=rep,
        type_name=".tf.Features.FeatureEntry",
    )
    fe = entry.nested_type.add(name="FeatureEntry")
    fe.options.map_entry = True
    fe.field.add(name="key", number=1, type=T.TYPE_STRING, label=opt)
    fe.field.add(name="value", number=2, type=T.TYPE_MESSAGE, label=opt, type_name=".tf.Feature")
    msg("Example", ("features", 1, T.TYPE_MESSAGE, opt, ".tf.Features"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tf.Example"))


def test_decodes_examples_serialized_by_protobuf() -> None:
    Example = _example_class()
    ex = Example()
    feats = ex.features.feature
    feats["id"].bytes_list.value.append(b"user-7")
    feats["age"].int64_list.value.append(-42)
    feats["scores"].float_list.value.extend([0.5, 1.25])
    feats["blob"].bytes_list.value.append(b"\xff\x00")
    feats["empty"].int64_list.SetInParent()
    decoded = decode_example(ex.SerializeToString())
    assert decoded == {
        "id": "user-7",
        "age": -42,
        "scores": [0.5, 1.25],
        "blob": {"b64": "/wA="},
        "empty": [],
    }


def test_encode_example_is_read_back_by_protobuf() -> None:
    Example = _example_class()
    data = encode_example({"id": "a", "n": [1, 2], "x": 0.5})
    ex = Example.FromString(data)
    assert list(ex.features.feature["n"].int64_list.value) == [1, 2]
    assert ex.features.feature["id"].bytes_list.value[0] == b"a"
    assert decode_example(data) == {"id": "a", "n": [1, 2], "x": 0.5}


def test_unpacked_repeated_values_are_read_too() -> None:
    # Int64List value=7 written unpacked (wire type 0), FloatList unpacked (wire type 5).
    int_list = b"\x08\x07"
    float_list = b"\x0d" + struct.pack("<f", 2.0)
    feature_i = b"\x1a" + bytes([len(int_list)]) + int_list
    feature_f = b"\x12" + bytes([len(float_list)]) + float_list

    def entry(name: bytes, feature: bytes) -> bytes:
        body = b"\x0a" + bytes([len(name)]) + name + b"\x12" + bytes([len(feature)]) + feature
        return b"\x0a" + bytes([len(body)]) + body

    features = entry(b"i", feature_i) + entry(b"f", feature_f)
    data = b"\x0a" + bytes([len(features)]) + features
    assert decode_example(data) == {"i": 7, "f": 2.0}


@pytest.mark.parametrize("junk", [b"\x0a\x05ab", b"\x0b", b"\xff\xff\xff"])
def test_garbage_is_not_an_example(junk: bytes) -> None:
    with pytest.raises(ExampleDecodeError):
        decode_example(junk)
