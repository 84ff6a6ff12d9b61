"""Writing joined results as JSON lines and CSV (what `batchspec results` prints)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from batchspec.errors import BatchspecError
from batchspec.results import job_results
from batchspec.results.write import prediction_columns, write_csv, write_jsonl


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
    (folder / "_SUCCESS").write_text("")  # not an output file: skipped
    return folder


def test_jsonl_rows_carry_key_and_outcome(outputs: Path) -> None:
    out = io.StringIO()
    assert write_jsonl(job_results(str(outputs) + "/", key_field="review_id"), out) == 4
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0] == {
        "key": "r2",
        "outcome": "predicted",
        "prediction": {"label": "pos", "score": 0.9},
    }
    assert rows[-1]["outcome"] == "failed" and rows[-1]["error"]["message"] == "bad"


def test_flat_predictions_spread_over_csv_columns(outputs: Path) -> None:
    columns = prediction_columns(job_results(str(outputs) + "/", key_field="review_id"))
    assert columns == ["label", "score"]
    out = io.StringIO()
    write_csv(job_results(str(outputs) + "/", key_field="review_id"), out, columns=columns)
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == ["key", "outcome", "prediction.label", "prediction.score", "error"]
    assert table[1] == ["r2", "predicted", "pos", "0.9", ""]
    assert table[-1][0] == "r9" and table[-1][1] == "failed" and "bad" in table[-1][-1]


def test_nested_predictions_go_to_one_json_column(tmp_path: Path) -> None:
    path = tmp_path / "prediction.results-00000-of-00001"
    path.write_text(json.dumps({"key": 1, "prediction": [0.1, 0.9]}) + "\n")
    assert prediction_columns(job_results(str(path))) is None
    out = io.StringIO()
    write_csv(job_results(str(path)), out)
    assert out.getvalue().splitlines()[1] == '1,predicted,"[0.1, 0.9]",'


def test_joining_inputs_names_missing_instances(outputs: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(
        "".join(
            json.dumps({"review_id": k, "text": "x"}) + "\n" for k in ["r1", "r2", "r7", "r9", "r5"]
        )
    )
    joined = list(job_results(str(outputs) + "/", inputs=str(inputs), key_field="review_id"))
    outcome = {r.key: r.outcome.value for r in joined}
    assert outcome == {
        "r1": "predicted",
        "r2": "predicted",
        "r7": "predicted",
        "r9": "failed",
        "r5": "missing",
    }


def test_a_folder_without_outputs_says_so(tmp_path: Path) -> None:
    with pytest.raises(BatchspecError, match="no prediction output files"):
        list(job_results(str(tmp_path) + "/"))
