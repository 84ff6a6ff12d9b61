"""Reading predictions back and joining them to input keys."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from batchspec.reconcile.results import (
    ResultsError,
    iter_rows,
    list_outputs,
    prediction_columns,
    split_outputs,
    write_csv,
    write_jsonl,
)


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "prediction.results-00000-of-00002").write_text(
        json.dumps({"key": "r2", "prediction": {"label": "pos", "score": 0.9}})
        + "\n"
        + json.dumps(
            {
                "instance": {"review_id": "r7", "text": "meh"},
                "prediction": {"label": "neu", "score": 0.5},
            }
        )
        + "\n"
    )
    (folder / "prediction.results-00001-of-00002").write_text(
        json.dumps({"key": "r1", "prediction": {"label": "neg", "score": 0.1}}) + "\n\n"
    )
    (folder / "prediction.errors_stats-00000-of-00001").write_text(
        json.dumps({"instance": {"review_id": "r9"}, "error": {"code": 3, "message": "bad"}}) + "\n"
    )
    (folder / "manifest.json").write_text("{}")
    return folder


def test_outputs_are_found_and_split(outputs: Path) -> None:
    results, errors = split_outputs(list_outputs(str(outputs)))
    assert [Path(p).name for p in results] == [
        "prediction.results-00000-of-00002",
        "prediction.results-00001-of-00002",
    ]
    assert [Path(p).name for p in errors] == ["prediction.errors_stats-00000-of-00001"]


def test_rows_join_predictions_to_keys(outputs: Path) -> None:
    results, errors = split_outputs(list_outputs(str(outputs)))
    rows = list(iter_rows(results, errors, key_field="review_id"))
    assert [(r.key, r.prediction, r.error) for r in rows] == [
        ("r2", {"label": "pos", "score": 0.9}, None),
        ("r7", {"label": "neu", "score": 0.5}, None),
        ("r1", {"label": "neg", "score": 0.1}, None),
        ("r9", None, {"code": 3, "message": "bad"}),
    ]


def test_jsonl_and_flattened_csv(outputs: Path) -> None:
    results, _ = split_outputs(list_outputs(str(outputs)))
    out = io.StringIO()
    assert write_jsonl(iter_rows(results, key_field="review_id"), out) == 3
    first = json.loads(out.getvalue().splitlines()[0])
    assert first == {"key": "r2", "prediction": {"label": "pos", "score": 0.9}}
    columns = prediction_columns(iter_rows(results, key_field="review_id"))
    assert columns == ["label", "score"]
    out = io.StringIO()
    write_csv(iter_rows(results, key_field="review_id"), out, columns=columns)
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == ["key", "prediction.label", "prediction.score", "error"]
    assert table[1] == ["r2", "pos", "0.9", ""]


def test_nested_predictions_go_to_one_json_column(tmp_path: Path) -> None:
    path = tmp_path / "prediction.results-00000-of-00001"
    path.write_text(json.dumps({"key": 1, "prediction": [0.1, 0.9]}) + "\n")
    assert prediction_columns(iter_rows([str(path)])) is None
    out = io.StringIO()
    write_csv(iter_rows([str(path)]), out)
    assert out.getvalue().splitlines()[1] == '1,"[0.1, 0.9]",'


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "prediction.results-00000-of-00001"
    path.write_text('{"key": 1, "prediction": 2}\nnot json\n')
    with pytest.raises(ResultsError, match=r"prediction.results-00000-of-00001:2: not JSON"):
        list(iter_rows([str(path)]))
