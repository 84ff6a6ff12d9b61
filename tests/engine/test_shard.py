"""The inner loop: one shard in, two published files out, errors isolated."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from batchspec.engine import formats
from batchspec.engine.errors import ModelContractError
from batchspec.engine.instances import FieldConfig, Shaper
from batchspec.engine.output import LocalStore
from batchspec.engine.plan import plan_shards
from batchspec.engine.runners import RunnerContext, load_runner
from batchspec.engine.shard import ShardJob, process_shard
from batchspec.model.enums import DataFormat as F
from batchspec.model.spec import PythonRunner


def _runner(name: str, tmp: Path) -> Any:
    cfg = PythonRunner(runner="python", callable=f"tests.engine.helpers.models:{name}")
    return load_runner(cfg, RunnerContext(spec_dir=tmp, job_name="t", batch_size=4))


def _run(
    tmp: Path, lines: list[str], model: str, *, key: str | None = None, fmt: F = F.JSONL,
    out_fmt: F = F.JSONL,
) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, int]]]:  # fmt: skip
    src = tmp / "in.data"
    src.write_text("".join(line + "\n" for line in lines))
    plan = plan_shards([str(src)], fmt, max_workers=1, batch_size=4)
    store = LocalStore(str(tmp / "out"))
    store.prepare()
    job = ShardJob(fmt, out_fmt, FieldConfig(key, None, frozenset(), None), "b64", 4, 1, store)
    reports: list[tuple[int, int]] = []
    result = process_shard(
        job, plan.shards[0], _runner(model, tmp), lambda d, f: reports.append((d, f))
    )
    out = tmp / "out"
    res = (out / result.results.name).read_text()
    results = [json.loads(x) for x in res.splitlines()] if out_fmt is F.JSONL else res  # type: ignore[misc]
    errors = [json.loads(x) for x in (out / result.errors.name).read_text().splitlines()]
    return result, results, errors, reports  # type: ignore[return-value]


def test_results_carry_the_key_and_files_are_published(tmp_path: Path) -> None:
    rows = [json.dumps({"id": f"k{i}", "text": "x" * i}) for i in range(10)]
    result, results, errors, reports = _run(tmp_path, rows, "length", key="id")
    assert results == [{"key": f"k{i}", "prediction": i} for i in range(10)]
    assert errors == []
    assert (result.completed, result.failed) == (10, 0)
    assert sum(d for d, _ in reports) == 10
    published = tmp_path / "out" / "prediction.results-00000-of-00001"
    assert result.results.sha256 == hashlib.sha256(published.read_bytes()).hexdigest()
    assert result.results.records == 10
    assert list((tmp_path / "out" / ".batchspec-staging").iterdir()) == []


def test_without_key_the_instance_is_echoed(tmp_path: Path) -> None:
    _, results, _, _ = _run(tmp_path, ['{"text": "ab"}'], "length")
    assert results == [{"instance": {"text": "ab"}, "prediction": 2}]


def test_one_failing_instance_costs_one_error_line(tmp_path: Path) -> None:
    rows = [json.dumps({"id": i, "text": "bad" if i == 5 else "good"}) for i in range(8)]
    rows.insert(3, "{broken")
    result, results, errors, _ = _run(tmp_path, rows, "fail_on_bad", key="id")
    assert sorted(r["key"] for r in results) == [0, 1, 2, 3, 4, 6, 7]
    assert (result.completed, result.failed) == (7, 2)
    by_status = {e["error"]["status"]: e for e in errors}
    malformed = by_status["INVALID_ARGUMENT"]
    assert malformed["instance"] == "{broken"
    assert malformed["error"]["message"].startswith(f"{tmp_path / 'in.data'}:4: malformed JSON")
    model_error = by_status["INTERNAL"]
    assert model_error["key"] == 5
    assert model_error["error"]["message"] == (
        f"{tmp_path / 'in.data'}:7: ValueError: cannot score 'bad'"
    )


def test_a_missing_key_is_an_error_line(tmp_path: Path) -> None:
    result, _, errors, _ = _run(
        tmp_path, ['{"text": "a"}', '{"id": 1, "text": "b"}'], "length", key="id"
    )
    assert (result.completed, result.failed) == (1, 1)
    assert "no key field 'id'" in errors[0]["error"]["message"]


def test_wrong_number_of_predictions_fails_the_job(tmp_path: Path) -> None:
    with pytest.raises(ModelContractError, match="returned 3 predictions for 4 instances"):
        _run(tmp_path, ['"a"'] * 4, "one_short")
    assert not list((tmp_path / "out").glob("prediction.*")), "nothing half-written published"
    assert list((tmp_path / "out" / ".batchspec-staging").iterdir()) == []


def test_unserialisable_prediction_is_an_error_line(tmp_path: Path) -> None:
    result, results, errors, _ = _run(tmp_path, ['"even"', '"odd"', '"even2"'], "not_json")
    assert [r["instance"] for r in results] == ["even", "even2"]
    assert errors[0]["instance"] == "odd"
    assert "cannot be written as JSON" in errors[0]["error"]["message"]
    assert result.failed == 1


def test_numpy_predictions_are_plain_json(tmp_path: Path) -> None:
    _, results, _, _ = _run(tmp_path, ["1", "2", "3"], "numpy_out")
    assert [r["prediction"] for r in results] == [0, 2, 4]


def test_csv_output_has_a_header_and_json_cells(tmp_path: Path) -> None:
    rows = [json.dumps({"id": "a", "text": "t"})]
    _, text, _, _ = _run(tmp_path, rows, "echo", key="id", out_fmt=F.CSV)
    assert text == 'key,prediction\na,"{""echo"":{""text"":""t""}}"\n'


@pytest.mark.parametrize("block_bytes", [7, 64, 1 << 15])
@pytest.mark.parametrize("fmt", [F.JSONL, F.CSV])
def test_blocks_read_at_once_write_the_bytes_of_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int, fmt: F
) -> None:
    """The fast path (whole clean blocks shaped and batched at once) writes
    exactly the files the instance-by-instance path writes, with bad lines,
    a missing key and a failing instance spread over blocks and batches."""
    if fmt is F.CSV:
        lines = ['"id","text"'] + [f'"k{i}","{"bad" if i % 7 == 3 else "ok"}"' for i in range(30)]
        lines[12] = '"k11",oops'
    else:
        lines = [
            json.dumps({"id": f"k{i}", "text": "bad" if i % 7 == 3 else "ok"}) for i in range(30)
        ]
        lines[12] = "{broken"
        lines[20] = json.dumps({"text": "no key"})
    lines.insert(25, "")
    monkeypatch.setattr(formats, "BLOCK_BYTES", block_bytes)
    fast = _files(tmp_path / "fast", lines, fmt)
    monkeypatch.setattr(Shaper, "many", lambda self, values: None)
    slow = _files(tmp_path / "slow", lines, fmt)
    assert fast == slow
    assert fast[0].count(b"\n") > 15 and fast[1].count(b"\n") >= 5


def _files(tmp: Path, lines: list[str], fmt: F) -> tuple[bytes, bytes]:
    tmp.mkdir()
    result, _, _, _ = _run(tmp, lines, "fail_on_bad", key="id", fmt=fmt)
    out = tmp / "out"
    files = (out / result.results.name).read_bytes(), (out / result.errors.name).read_bytes()
    where = str(tmp).encode()  # error messages name the input file
    return files[0].replace(where, b"TMP"), files[1].replace(where, b"TMP")
