"""Shard planning: deterministic, exact line coverage, CSV headers, totals."""

from __future__ import annotations

import gzip
from pathlib import Path

from batchspec.engine.formats import read_shard
from batchspec.engine.plan import (
    MAX_SHARD_LINES,
    MIN_SHARD_LINES,
    ShardPlan,
    lines_per_shard,
    plan_shards,
)
from batchspec.engine.tfrecord import encode_record
from batchspec.model.enums import DataFormat as F
from batchspec.results.formats import file_kind, is_shard_name, shard_name


def test_output_names_follow_the_services() -> None:
    assert shard_name("results", 0, 6) == "prediction.results-00000-of-00006"
    assert shard_name("errors_stats", 5, 6) == "prediction.errors_stats-00005-of-00006"
    # One naming fact for the engine that writes them and the reader of results.
    assert is_shard_name(shard_name("results", 0, 6)) and not is_shard_name("predictions_1.jsonl")
    assert file_kind(shard_name("results", 0, 6)) == "predictions"
    assert file_kind(shard_name("errors_stats", 0, 6)) == "error_stats"


def test_shard_size_depends_on_the_spec_not_the_machine() -> None:
    assert lines_per_shard(1_000, 10, 64) == MIN_SHARD_LINES
    assert lines_per_shard(10_000_000, 2, 64) == MAX_SHARD_LINES
    assert lines_per_shard(400_000, 10, 64) == 10_000
    assert lines_per_shard(10, 10, 5_000) == 5_000


def test_large_files_split_at_line_boundaries_covering_every_line_once(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text("".join(f'{{"i": {i}}}\n' for i in range(5_003)))
    small = tmp_path / "small.jsonl"
    small.write_text('{"i": -1}')  # no final newline
    plan = plan_shards([str(big), str(small)], F.JSONL, max_workers=1, batch_size=64)
    assert plan.total == 5_004
    assert len(plan.shards) == 5  # 1,251 lines per shard (5,004 / 4): 4 shards, + 1
    seen = []
    for shard in plan.shards:
        for number, value, problem in read_shard(shard, F.JSONL):
            assert problem is None
            seen.append((shard.uri, number, value["i"]))
    assert [v for u, _, v in seen if u == str(big)] == list(range(5_003))
    assert [n for u, n, _ in seen if u == str(big)] == list(range(1, 5_004))
    assert seen[-1] == (str(small), 1, -1)
    again = plan_shards([str(big), str(small)], F.JSONL, max_workers=1, batch_size=64)
    assert again == plan
    assert ShardPlan.from_json(plan.to_json()) == plan


def test_csv_header_is_not_an_instance_and_line_numbers_stay_absolute(tmp_path: Path) -> None:
    p = tmp_path / "in.csv"
    p.write_text('"x"\n' + "".join(f"{i}\n" for i in range(2_500)))
    plan = plan_shards([str(p)], F.CSV, max_workers=1, batch_size=64)
    assert plan.total == 2_500
    numbers = [n for s in plan.shards for n, _, _ in read_shard(s, F.CSV)]
    assert numbers == list(range(2, 2_502))


def test_tfrecords_are_counted_gzip_is_not(tmp_path: Path) -> None:
    blob = b"".join(encode_record(b"r%d" % i) for i in range(7))
    plain = tmp_path / "a.tfrecord"
    plain.write_bytes(blob)
    assert plan_shards([str(plain)], F.TF_RECORD, max_workers=1, batch_size=1).total == 7
    gz = tmp_path / "b.tfrecord.gz"
    gz.write_bytes(gzip.compress(blob))
    plan = plan_shards([str(gz)], F.TF_RECORD_GZIP, max_workers=1, batch_size=1)
    assert plan.total is None and len(plan.shards) == 1
