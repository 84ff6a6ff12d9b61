"""Readers: every format, and every kind of bad input as a located problem."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchspec.engine import formats
from batchspec.engine.errors import InputError
from batchspec.engine.example import encode_example
from batchspec.engine.formats import read_shard
from batchspec.engine.plan import Shard
from batchspec.engine.tfrecord import encode_record
from batchspec.model.enums import DataFormat as F


def _read(path: Path, fmt: F, **kw: str) -> list[tuple[int, object, object]]:
    first = 2 if fmt is F.CSV else 1
    return list(read_shard(Shard(0, str(path), first=first), fmt, **kw))


def test_jsonl_values_and_malformed_lines_with_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "in.jsonl"
    p.write_text('{"a": 1}\n\n[1, 2]\n{"a": \n"s"\n')
    items = _read(p, F.JSONL)
    assert [(n, v) for n, v, e in items if e is None] == [(1, {"a": 1}), (3, [1, 2]), (5, "s")]
    bad = [(n, v, e) for n, v, e in items if e is not None]
    assert len(bad) == 1
    number, raw, (status, message) = bad[0]
    assert (number, raw, status) == (4, '{"a": ', "INVALID_ARGUMENT")
    assert "malformed JSON" in message


def test_text_lines_are_string_instances(tmp_path: Path) -> None:
    p = tmp_path / "in.txt"
    p.write_bytes(b"hello world\r\n\nsecond\n\xff\xfe\n")
    items = _read(p, F.TEXT)
    assert [(n, v) for n, v, e in items if e is None] == [(1, "hello world"), (3, "second")]
    assert items[-1][0] == 4 and "not UTF-8" in items[-1][2][1]  # type: ignore[index]


def test_csv_rows_quoted_strings_unquoted_numbers(tmp_path: Path) -> None:
    p = tmp_path / "in.csv"
    p.write_text(
        '"id","x","label"\n"a",1.5,"cat"\n"b",2,"dog",7\n"c",3\n"d",oops,"z"\n"e",4,"ok"\n'
    )
    items = _read(p, F.CSV)
    good = [(n, v) for n, v, e in items if e is None]
    assert good == [(2, ["a", 1.5, "cat"]), (6, ["e", 4.0, "ok"])]
    problems = {n: e[1] for n, v, e in items if e is not None}  # type: ignore[index]
    assert "too many fields: 4, the header has 3" in problems[3]
    assert "too few fields: 2" in problems[4]
    assert "unquoted CSV values are read as numbers" in problems[5]


def test_csv_header_problems_are_input_errors(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(InputError, match="no CSV header"):
        _read(p, F.CSV)


def _tfrecords(path: Path, payloads: list[bytes], gz: bool = False) -> Path:
    blob = b"".join(encode_record(d) for d in payloads)
    path.write_bytes(gzip.compress(blob) if gz else blob)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_tfrecords_as_b64(tmp_path: Path, gz: bool) -> None:
    fmt = F.TF_RECORD_GZIP if gz else F.TF_RECORD
    p = _tfrecords(tmp_path / "in.tfrecord", [b"one", b"\x00\x01"], gz)
    items = _read(p, fmt)
    assert [v for _, v, _ in items] == [
        {"b64": base64.b64encode(b"one").decode()},
        {"b64": "AAE="},
    ]


def test_tfrecord_crc_mismatch_is_an_error_line_naming_the_record(tmp_path: Path) -> None:
    bad = bytearray(encode_record(b"second"))
    bad[-1] ^= 0xFF
    p = tmp_path / "in.tfrecord"
    p.write_bytes(encode_record(b"first") + bytes(bad) + encode_record(b"third"))
    items = _read(p, F.TF_RECORD)
    assert [e is None for _, _, e in items] == [True, False, True]
    number, _, (status, message) = items[1]  # type: ignore[misc]
    assert number == 2 and status == "DATA_LOSS"
    assert "data checksum mismatch" in message and "byte 21" in message


def test_corrupt_gzip_is_one_error_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "in.tfrecord.gz"
    p.write_bytes(gzip.compress(encode_record(b"x"))[:-6])
    items = _read(p, F.TF_RECORD_GZIP)
    assert items[-1][2] is not None


def test_tfrecord_examples_decoded_when_asked(tmp_path: Path) -> None:
    p = _tfrecords(tmp_path / "ex.tfrecord", [encode_example({"id": "k1", "x": [1.5, 2.5]})])
    items = _read(p, F.TF_RECORD, tf_decode="example")
    assert items == [(1, {"id": "k1", "x": [1.5, 2.5]}, None)]
    p2 = _tfrecords(tmp_path / "junk.tfrecord", [b"\xff\xff\xff"])
    ((_, _, problem),) = _read(p2, F.TF_RECORD, tf_decode="example")
    assert problem is not None and "not a tf.train.Example" in problem[1]


def test_file_list_reads_each_file_as_b64(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.bin").write_bytes(b"\x89PNG")
    absolute = tmp_path / "b.bin"
    absolute.write_bytes(b"B")
    lst = tmp_path / "list.txt"
    lst.write_text(f"imgs/a.bin\n\n{absolute}\nimgs/missing.bin\n")
    items = _read(lst, F.FILE_LIST)
    assert items[0] == (1, {"b64": base64.b64encode(b"\x89PNG").decode()}, None)
    assert items[1] == (3, {"b64": "Qg=="}, None)
    number, name, (status, _) = items[2]  # type: ignore[misc]
    assert (number, name, status) == (4, "imgs/missing.bin", "NOT_FOUND")


PIECES = [b"a", b"bc", b"\n", b"\r", b"\r\n", b"\x0b", b" "]


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(
        st.sampled_from([b"a", b"bc", b"\n", b"\r", b"\r\n", b"\x0b", b" "]), max_size=40
    ),
    block=st.integers(min_value=1, max_value=16),
)
def test_blocks_cut_lines_exactly_as_iterating_a_binary_file(data: list[bytes], block: int) -> None:
    """Only a newline ends a line (not a lone carriage return), whatever the
    block size, and a last line without a newline is kept."""
    raw = b"".join(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "BLOCK_BYTES", block)
        got = [line for lines in formats._split_lines(io.BytesIO(raw)) for line in lines]
    assert got == list(io.BytesIO(raw))


def test_blocks_keep_line_numbers_and_limits_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "in.jsonl"
    p.write_text("".join(f'{{"n": {i}}}\n' for i in range(1, 41)))
    monkeypatch.setattr(formats, "BLOCK_BYTES", 25)  # a few lines per block
    start = len(b"".join(f'{{"n": {i}}}\n'.encode() for i in range(1, 11)))
    shard = Shard(0, str(p), start=start, first=11, lines=17)
    blocks = list(formats.read_blocks(shard, F.JSONL))
    assert len(blocks) > 3 and all(b.problems is None for b in blocks)
    items = [item for b in blocks for item in b.items()]
    assert [(n, v["n"]) for n, v, _ in items] == [(n, n) for n in range(11, 28)]


def test_a_block_with_a_problem_is_read_line_by_line(tmp_path: Path) -> None:
    p = tmp_path / "in.csv"
    p.write_text('"id","x"\n"a",1\n"b",oops\n\n"c",3\n')
    (block,) = formats.read_blocks(Shard(0, str(p), start=9, first=2), F.CSV)
    assert block.problems is not None
    assert [(n, v, e is None) for n, v, e in block.items()] == [
        (2, ["a", 1.0], True),
        (3, '"b",oops', False),
        (5, ["c", 3.0], True),
    ]
