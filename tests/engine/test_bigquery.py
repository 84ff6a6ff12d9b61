"""`bq://` sources and destinations on the local engine, against bqemulator
through the real google-cloud-bigquery client: row-range shards, Vertex's
instance shapes and table layout, atomic table loads, and resume without
duplicate rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from batchspec.engine.jobdir import JobDir
from batchspec.io import bigquery as bqio
from batchspec.model.enums import JobState
from batchspec.results import Outcome, job_results
from tests.engine.conftest import Workspace, python_model, spec_doc

ECHO = python_model("tests.engine.helpers.models:echo")
FAIL_ON_BAD = python_model("tests.engine.helpers.models:fail_on_bad")


def make_table(bq: Any, dataset: str, name: str, rows: list[dict[str, Any]]) -> str:
    """A source table (columns in the first row's order), as a bq:// URL."""
    from google.cloud import bigquery

    kinds = {bool: "BOOL", int: "INT64", float: "FLOAT64", str: "STRING"}
    schema = [bigquery.SchemaField(k, kinds[type(v)]) for k, v in rows[0].items()]
    table = f"{bq.project}.{dataset}.{name}"
    bq.create_table(bigquery.Table(table, schema=schema))
    for start in range(0, len(rows), 1000):
        assert not bq.insert_rows_json(table, rows[start : start + 1000])
    return f"bq://{table}"


def table_rows(bq: Any, uri: str) -> list[dict[str, Any]]:
    return [dict(r) for r in bq.list_rows(bqio.parse_uri(uri).table_id)]


def test_rows_are_arrays_in_column_order_split_into_row_ranges(
    ws: Workspace, bq: Any, bq_dataset: str
) -> None:
    rows = [{"id": f"c{i}", "tenure": i, "spend": i / 4} for i in range(2500)]
    source = make_table(bq, bq_dataset, "customers", rows)
    doc = spec_doc(
        model=ECHO,
        input={"format": "BIGQUERY", "bigquery": source, "keyField": "id"},
        # One worker reads the ranges in turn: bqemulator mixes up concurrent
        # tabledata.list answers (tests/emulators.py); BigQuery does not.
        resources={"maxWorkerCount": 1},
    )
    job = ws.run(doc)
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.total_count == 2500
    plan = json.loads((ws.backend.job_dir(job.remote_name) / "plan.json").read_text())
    assert [(s["start"], s["first"], s["lines"]) for s in plan["shards"]] == [
        (0, 1, 834),
        (834, 835, 834),
        (1668, 1669, None),  # the last range reads to the end of the table
    ]
    got = sorted(ws.lines("results"), key=lambda r: int(r["key"][1:]))
    # Vertex's default for BigQuery: an array in column order, the key left out.
    assert [(r["key"], r["prediction"]["echo"]) for r in got] == [
        (f"c{i}", [i, i / 4]) for i in range(2500)
    ]


def test_object_instances_and_a_join_back_to_the_table(
    ws: Workspace, bq: Any, bq_dataset: str
) -> None:
    rows = [{"name": f"n{i}", "x": i, "y": -i, "note": "kept"} for i in range(5)]
    source = make_table(bq, bq_dataset, "points", rows)
    doc = spec_doc(
        model=ECHO,
        input={
            "format": "BIGQUERY",
            "bigquery": source,
            "instanceType": "object",
            "includedFields": ["y", "x"],
        },
    )
    job = ws.run(doc)
    assert job.state is JobState.SUCCEEDED, job.error
    by_name = {r["instance"]["name"]: r for r in ws.lines("results")}
    assert by_name["n3"]["prediction"] == {"echo": {"y": -3, "x": 3}}
    assert by_name["n3"]["instance"] == rows[3], "the whole row names the instance"
    joined = list(job_results(ws.backend.outputs(job.remote_name), inputs=[source]))
    assert [j.outcome for j in joined] == [Outcome.PREDICTED] * 5
    assert [j.prediction["echo"]["x"] for j in joined] == [0, 1, 2, 3, 4]


def test_a_missing_table_or_column_fails_with_what_to_fix(
    ws: Workspace, bq: Any, bq_dataset: str
) -> None:
    missing = f"bq://{bq.project}.{bq_dataset}.nope"
    job = ws.run(spec_doc(model=ECHO, input={"format": "BIGQUERY", "bigquery": missing}))
    assert job.state is JobState.FAILED
    assert job.error == f"BigQuery table {bq.project}.{bq_dataset}.nope not found"
    assert "dataViewer" in ws.details(job)["error"]["hint"]
    source = make_table(bq, bq_dataset, "t", [{"a": 1}])
    doc = spec_doc(model=ECHO, input={"format": "BIGQUERY", "bigquery": source, "keyField": "id"})
    job = ws.run(doc, name="other.yaml")
    assert job.state is JobState.FAILED
    assert "keyField names column(s) 'id' that the table does not have (columns: a)" in (
        job.error or ""
    )


def reviews_to_dataset(ws: Workspace, bq: Any, dataset: str, **spec: Any) -> dict[str, Any]:
    """Eight keyed reviews (two the model refuses) and an unreadable line, to a
    dataset destination: 6 predictions, 3 errors."""
    lines = [{"id": i, "text": "bad" if i in (2, 5) else f"review {i}"} for i in range(8)]
    ws.write("in/a.jsonl", "".join(json.dumps(r) + "\n" for r in lines) + "{broken\n")
    return spec_doc(
        model=FAIL_ON_BAD,
        input={"format": "JSONL", "paths": ["in/*"], "keyField": "id"},
        output={"format": "BIGQUERY", "bigquery": f"bq://{bq.project}.{dataset}"},
        **spec,
    )


def test_dataset_destination_gets_vertex_tables_loaded_whole(
    ws: Workspace, bq: Any, bq_dataset: str
) -> None:
    doc = reviews_to_dataset(ws, bq, bq_dataset)
    job = ws.run(doc)
    assert job.state is JobState.PARTIALLY_SUCCEEDED, job.error
    assert (job.completed_count, job.failed_count) == (6, 3)
    created = ws.backend.get(job.remote_name).create_time
    assert created is not None
    stamp = bqio.timestamp_suffix(created)
    predictions = f"bq://{bq.project}.{bq_dataset}.predictions_{stamp}"
    errors = f"bq://{bq.project}.{bq_dataset}.errors_{stamp}"
    assert job.output_location == predictions
    assert ws.backend.outputs(job.remote_name) == [predictions, errors]
    got = {r["key"]: r for r in table_rows(bq, predictions)}
    assert sorted(got) == [0, 1, 3, 4, 6, 7]
    assert json.loads(got[3]["prediction"]) == {"ok": True}
    failed = table_rows(bq, errors)
    by_key = {r.get("key"): json.loads(r["errors"]) for r in failed}
    assert by_key[2]["code"] == 13 and "cannot score 'bad'" in by_key[2]["message"]
    assert by_key[None]["code"] == 3, "the unreadable line: INVALID_ARGUMENT"
    assert "in/a.jsonl:9: malformed JSON" in by_key[None]["message"]
    joined = list(
        job_results([predictions, errors], inputs=[str(ws.root / "in/a.jsonl")], key_field="id")
    )
    assert [j.outcome for j in joined].count(Outcome.PREDICTED) == 6
    # The unreadable line joins too: by its text, as the errors row names it.
    assert [j.key for j in joined if j.outcome is Outcome.FAILED] == [2, 5, "{broken"]
    assert len(joined) == 9
    manifest = json.loads(
        (ws.backend.job_dir(job.remote_name) / "output" / "batchspec-manifest.json").read_text()
    )
    assert manifest["outputFormat"] == "BIGQUERY" and manifest["completedCount"] == 6


def test_project_destination_creates_a_dataset_per_job(ws: Workspace, bq: Any) -> None:
    ws.jsonl("in/a.jsonl", [{"text": "one"}, {"text": "two"}])
    doc = spec_doc(
        model=ECHO,
        input={"format": "JSONL", "paths": ["in/*"]},
        output={"format": "BIGQUERY", "bigquery": f"bq://{bq.project}"},
        name="review_scores",
    )
    job = ws.run(doc)
    assert job.state is JobState.SUCCEEDED, job.error
    created = ws.backend.get(job.remote_name).create_time
    assert created is not None
    dataset = f"prediction_review_scores_{bqio.timestamp_suffix(created)}"
    assert ws.backend.outputs(job.remote_name) == [
        f"bq://{bq.project}.{dataset}.predictions",
        f"bq://{bq.project}.{dataset}.errors",
    ]
    rows = table_rows(bq, f"bq://{bq.project}.{dataset}.predictions")
    # Without a key the instance's fields become columns, then `prediction`.
    assert sorted((r["text"], json.loads(r["prediction"])["echo"]["text"]) for r in rows) == [
        ("one", "one"),
        ("two", "two"),
    ]
    assert table_rows(bq, f"bq://{bq.project}.{dataset}.errors") == []


def test_a_missing_dataset_fails_before_the_model_runs(ws: Workspace, bq: Any) -> None:
    ws.jsonl("in/a.jsonl", [{"text": "one"}])
    doc = spec_doc(
        model=ECHO,
        input={"format": "JSONL", "paths": ["in/*"]},
        output={"format": "BIGQUERY", "bigquery": f"bq://{bq.project}.no_such_dataset"},
    )
    job = ws.run(doc)
    assert job.state is JobState.FAILED
    assert job.error == f"BigQuery dataset {bq.project}.no_such_dataset not found"
    assert "bq mk" in ws.details(job)["error"]["hint"]
    assert ws.details(job)["shardsDone"] == 0


def test_a_failed_job_loads_no_tables(ws: Workspace, bq: Any, bq_dataset: str) -> None:
    doc = reviews_to_dataset(ws, bq, bq_dataset, policy={"maxFailedInstances": 1})
    job = ws.run(doc)
    assert job.state is JobState.FAILED
    assert ws.backend.outputs(job.remote_name) == []
    assert list(bq.list_tables(bq_dataset)) == []
    folder = ws.backend.job_dir(job.remote_name) / "output"
    assert str(folder) in ws.details(job)["error"]["hint"]
    assert (folder / "prediction.errors_stats-00000-of-00001").exists()


class Crash(BaseException):
    """Stands in for the process dying (not an Exception: nothing catches it)."""


def test_a_crash_between_the_two_loads_resumes_without_duplicates(
    ws: Workspace, bq: Any, bq_dataset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = reviews_to_dataset(ws, bq, bq_dataset)
    real_load = bqio.load_json_lines
    loads: list[str] = []

    def load_then_die(uri: str, *args: Any, **kwargs: Any) -> None:
        loads.append(uri)
        real_load(uri, *args, **kwargs)
        if "errors_" in uri:
            raise Crash  # the errors table is in, the predictions table is not

    monkeypatch.setattr(bqio, "load_json_lines", load_then_die)
    with pytest.raises(Crash):
        ws.run(doc)
    (job,) = ws.backend.list()
    assert job.state is JobState.PAUSED, "not terminal: submitting again resumes it"
    assert [uri.rsplit(".", 1)[-1].split("_")[0] for uri in loads] == ["errors"]
    monkeypatch.setattr(bqio, "load_json_lines", real_load)
    job = ws.run(doc)
    assert job.state is JobState.PARTIALLY_SUCCEEDED, job.error
    predictions, errors = ws.backend.outputs(job.remote_name)
    assert len(table_rows(bq, errors)) == 3, "loaded once, not again"
    assert sorted(r["key"] for r in table_rows(bq, predictions)) == [0, 1, 3, 4, 6, 7]
    # A job that already loaded both tables and is resumed again loads nothing.
    jd = JobDir(ws.backend.job_dir(job.remote_name))
    jd.update_status(state=JobState.RUNNING.value)
    job = ws.run(doc)
    assert job.state is JobState.PARTIALLY_SUCCEEDED
    assert len(table_rows(bq, predictions)) == 6 and len(table_rows(bq, errors)) == 3


def test_a_source_table_that_changed_is_not_resumed(
    ws: Workspace, bq: Any, bq_dataset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row ranges of a changed table no longer mean the same rows."""
    source = make_table(bq, bq_dataset, "src", [{"id": i, "v": i} for i in range(10)])
    doc = spec_doc(model=ECHO, input={"format": "BIGQUERY", "bigquery": source, "keyField": "id"})
    from batchspec.engine import processpool

    with monkeypatch.context() as patch, pytest.raises(Crash):
        patch.setattr(processpool.ProcessPool, "run", lambda *a: _raise(Crash()))
        ws.run(doc)
    assert not bq.insert_rows_json(bqio.parse_uri(source).table_id, [{"id": 10, "v": 10}])
    job = ws.run(doc)
    assert job.state is JobState.FAILED
    assert "changed since this job started" in (job.error or "")


def _raise(exc: BaseException) -> None:
    raise exc


def test_an_existing_table_with_other_rows_is_refused(
    tmp_path: Path, bq: Any, bq_dataset: str
) -> None:
    from batchspec.engine.errors import OutputError
    from batchspec.engine.tables import BigQueryStore

    tables = bqio.output_tables(f"bq://{bq.project}.{bq_dataset}", name="x", when=datetime.now(UTC))
    bqio.write_rows(tables.errors_uri, [{"key": 1, "errors": "someone else's"}], client=bq)
    store = BigQueryStore(tables, str(tmp_path / "out"), "job-1")
    store.prepare()
    assert store.existing() == [tables.errors_uri]
    with pytest.raises(OutputError, match="already exists with 1 rows; this job has 0"):
        store.commit([], 0, 0)


def test_no_credentials_fail_the_job_with_what_to_do(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("google.cloud.bigquery")
    monkeypatch.delenv("BIGQUERY_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(ws.root / "no-such-key.json"))
    source = "bq://my-project-1.sales.reviews"
    job = ws.run(spec_doc(model=ECHO, input={"format": "BIGQUERY", "bigquery": source}))
    assert job.state is JobState.FAILED
    assert (job.error or "").startswith("connecting to BigQuery: no usable credentials")
    assert "gcloud auth application-default login" in ws.details(job)["error"]["hint"]
