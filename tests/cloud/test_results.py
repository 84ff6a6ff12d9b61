"""Reading outputs back: every file shape, local and on fake-gcs-server, and
the join of outputs to input keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchspec.errors import BatchspecError
from batchspec.results import (
    FileKind,
    Outcome,
    ResultError,
    ResultRecord,
    file_kind,
    job_results,
    join_inputs,
    read_results,
    summarize,
)
from batchspec.results.formats import parse_error_stats_line, parse_prediction_lines


@pytest.mark.parametrize(
    "name, kind",
    [
        ("gs://b/out/prediction-m-2024/predictions_0001.jsonl", FileKind.PREDICTIONS),
        ("predictions_0002.csv", FileKind.PREDICTIONS),
        ("errors_0001.jsonl", FileKind.ERRORS),
        ("/tmp/out/prediction.results-00000-of-00003", FileKind.PREDICTIONS),
        ("prediction.errors_stats-00001-of-00002", FileKind.ERROR_STATS),
        ("manifest.json", None),
        ("_SUCCESS", None),
    ],
)
def test_file_kinds(name, kind) -> None:
    assert file_kind(name) is kind


def test_vertex_prediction_and_error_lines() -> None:
    lines = [
        '{"instance": {"x": 1}, "prediction": {"score": 0.5}}',
        '{"key": "r7", "prediction": [0.1, 0.9]}',
        '{"instance": {"x": 2}, "error": {"code": 3, "message": "bad input"}}',
        '{"key": "r9", "error": {"status": "INVALID_ARGUMENT", "message": "nope"}}',
        "",
    ]
    a, b, c, d = parse_prediction_lines(lines, "f")
    assert (a.instance, a.prediction, a.ok) == ({"x": 1}, {"score": 0.5}, True)
    assert (b.key, b.prediction) == ("r7", [0.1, 0.9])
    assert c.error == ResultError("bad input", 3)
    assert d.key == "r9" and d.error == ResultError("nope", "INVALID_ARGUMENT")


def test_ml_engine_result_line_is_the_model_output() -> None:
    (record,) = parse_prediction_lines(['{"key": 4, "scores": [0.2, 0.8], "classes": ["a", "b"]}'])
    assert record.key == 4
    assert record.prediction == {"key": 4, "scores": [0.2, 0.8], "classes": ["a", "b"]}


def test_an_unreadable_line_is_never_turned_into_a_record() -> None:
    # Reading files counts such lines (tests/results); the line parser refuses them.
    with pytest.raises(ValueError):
        list(parse_prediction_lines(["{not json"]))
    with pytest.raises(ValueError, match="not a JSON object"):
        list(parse_prediction_lines(["[1, 2]"]))


POST_FAILED = (
    "Post request fails. Cannot get predictions. Error: Exceeded retries: Non-OK result 422"
)


@pytest.mark.parametrize(
    "line, message, instance, count",
    [
        # Dataflow's Count.PerKey(): (error, count)
        (
            "('Prediction failed: input could not be parsed', 3)",
            "Prediction failed: input could not be parsed",
            None,
            3,
        ),
        # (instance JSON, error message)
        (
            '(\'{"instance": {"id": 7, "text": "hi"}}\', \'Exception during running the graph\')',
            "Exception during running the graph",
            {"id": 7, "text": "hi"},
            1,
        ),
        # (error, [input lines]) from a failed batch
        (
            f"('{POST_FAILED}', ['{{\"id\": 1}}', '{{\"id\": 2}}'])",
            POST_FAILED,
            [{"id": 1}, {"id": 2}],
            1,
        ),
        # a message that contains quotes and parentheses
        (
            "(\"Input instance with key 'k1' (row 3) is malformed\", 1)",
            "Input instance with key 'k1' (row 3) is malformed",
            None,
            1,
        ),
    ],
)
def test_tuple_shaped_errors_stats_lines(line, message, instance, count) -> None:
    record = parse_error_stats_line(line, "s")
    assert record is not None and record.error is not None
    assert record.error.message == message
    assert record.instance == instance
    assert record.count == count


def test_errors_stats_json_and_garbage_lines() -> None:
    record = parse_error_stats_line('{"instance": {"id": 1}, "error": {"code": 3, "message": "m"}}')
    assert (
        record is not None and record.instance == {"id": 1} and record.error == ResultError("m", 3)
    )
    odd = parse_error_stats_line("something went wrong (not a tuple")
    assert odd is not None and odd.error == ResultError("something went wrong (not a tuple")
    assert parse_error_stats_line("   ") is None


def test_join_by_key_field() -> None:
    inputs = [{"id": "a", "x": 1}, {"id": "b", "x": 2}, {"id": "c", "x": 3}, {"id": "d", "x": 4}]
    records = [
        ResultRecord(key="c", prediction=3),
        ResultRecord(key="a", prediction=1),
        ResultRecord(key="b", error=ResultError("boom", 3)),
        ResultRecord(key="zz", prediction=9),
    ]
    joined = list(join_inputs(records, inputs, key_field="id"))
    assert [(j.key, j.outcome) for j in joined] == [
        ("a", Outcome.PREDICTED),
        ("b", Outcome.FAILED),
        ("c", Outcome.PREDICTED),
        ("d", Outcome.MISSING),
        ("zz", Outcome.UNMATCHED),
    ]
    assert joined[0].instance == {"id": "a", "x": 1} and joined[0].prediction == 1
    assert summarize(joined) == {"predicted": 2, "failed": 1, "missing": 1, "unmatched": 1}


def test_join_by_instance_with_duplicates_and_retyped_keys() -> None:
    inputs = [{"x": 1}, {"x": 1}, {"x": 2}]
    records = [
        ResultRecord(instance={"x": 1}, prediction="p1"),
        ResultRecord(instance={"x": 2}, prediction="p2"),
        ResultRecord(instance={"x": 1}, prediction="p1b"),
    ]
    joined = list(join_inputs(records, inputs))
    assert [j.prediction for j in joined] == ["p1", "p1b", "p2"]
    keyed = list(join_inputs([ResultRecord(key="1", prediction="ok")], [{"id": 1}], key_field="id"))
    assert keyed[0].outcome is Outcome.PREDICTED  # BigQuery/CSV give keys back as text


def write(path: Path, lines: list[object]) -> None:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))


def test_local_engine_style_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write(out / "prediction.results-00000-of-00002", [{"key": 1, "prediction": "pos"}])
    write(out / "prediction.results-00001-of-00002", [{"key": 2, "prediction": "neg"}])
    write(out / "prediction.errors_stats-00000-of-00001", ["('could not parse', 1)"])
    (out / "manifest.json").write_text("{}")
    records = list(read_results(str(out)))
    assert [r.key for r in records] == [1, 2, None]
    assert records[-1].error == ResultError("could not parse")
    inputs = tmp_path / "in.jsonl"
    write(inputs, [{"key": 1}, {"key": 2}, {"key": 3}])
    joined = list(job_results(str(out), inputs=[str(inputs)], key_field="key"))
    assert [j.outcome for j in joined] == [
        Outcome.PREDICTED,
        Outcome.PREDICTED,
        Outcome.MISSING,
        Outcome.UNMATCHED,
    ]


def test_csv_output(tmp_path: Path) -> None:
    (tmp_path / "predictions_0001.csv").write_text('key,prediction\nk1,"{""score"": 1}"\n')
    (record,) = read_results(str(tmp_path))
    assert record.key == "k1" and record.prediction == {"score": 1}


def test_an_empty_folder_says_what_it_expected(tmp_path: Path) -> None:
    with pytest.raises(BatchspecError, match="no prediction output files"):
        list(read_results(str(tmp_path)))


def test_reads_from_fake_gcs(gcs, bucket) -> None:
    folder = f"{bucket}/out/prediction-model-2024-05-01T10:00:00.000Z"
    gcs.pipe(f"{folder}/predictions_0001.jsonl", b'{"instance": {"x": 1}, "prediction": 0.25}\n')
    gcs.pipe(
        f"{folder}/errors_0001.jsonl",
        b'{"instance": {"x": 2}, "error": {"code": 3, "message": "bad"}}\n',
    )
    gcs.pipe(f"{bucket}/in/a.jsonl", b'{"x": 1}\n{"x": 2}\n')
    joined = list(job_results(f"gs://{folder}", inputs=[f"gs://{bucket}/in/*"]))
    assert [(j.instance, j.prediction, j.outcome) for j in joined] == [
        ({"x": 1}, 0.25, Outcome.PREDICTED),
        ({"x": 2}, None, Outcome.FAILED),
    ]
    assert joined[1].error == ResultError("bad", 3)
