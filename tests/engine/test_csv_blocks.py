"""The CSV reader's fast path (a block decoded and parsed whole) against its
slow path (line by line): the same rows, numbers and problems, whatever the
bytes and the block size."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchspec.engine import formats
from batchspec.engine.plan import Shard

PIECES = [b'"a"', b'"b,c"', b"1", b"2.5", b",", b"\n", b"\r\n", b"\r", b'"', b"x", b" ",
          b'"q""q"', b"\xff", b"\xc3\xa9", b'"\n"', b"\x0c", b"\xc2\x85"]  # fmt: skip


def _slow(data: bytes, first: int, width: int) -> list[formats.Item]:
    lines = formats._with_newlines(data)
    block = formats._one_by_one(first, lines, lambda n, line: formats._csv_line(n, line, width))
    return list(block.items())


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(st.sampled_from(PIECES), max_size=6), max_size=12),
    block=st.integers(min_value=1, max_value=64),
    lines=st.one_of(st.none(), st.integers(min_value=0, max_value=12)),
)
def test_fast_path_reads_as_line_by_line(
    tmp_path: Path, rows: list[list[bytes]], block: int, lines: int | None
) -> None:
    body = b"".join(b"".join(row) for row in rows)
    path = tmp_path / "in.csv"
    path.write_bytes(b'"k","v"\n' + body)
    start = len(b'"k","v"\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "BLOCK_BYTES", block)
        for shard in (Shard(0, str(path), start=start, first=2, lines=lines), Shard(0, str(path))):
            got = list(formats.read_csv(shard, ["k", "v"]))
            want = _slow(body, 2, 2)
            if shard.lines is not None:
                want = [item for item in want if item[0] < 2 + shard.lines]
            assert got == want


def test_clean_rows_take_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b'"k","v"\r\n' + b"".join(b'"r%d",%d\r\n' % (i, i) for i in range(50)))
    blocks = list(formats.csv_blocks(Shard(0, str(path)), ["k", "v"]))
    assert all(b.problems is None for b in blocks)
    assert [item for b in blocks for item in b.items()] == [
        (i + 2, [f"r{i}", float(i)], None) for i in range(50)
    ]
