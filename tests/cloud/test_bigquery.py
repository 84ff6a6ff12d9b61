"""`bq://` sources and destinations against bqemulator, through the real
google-cloud-bigquery client; and a Vertex job from a BigQuery table to a
BigQuery dataset, read back and joined."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from batchspec.backends.vertex import VertexBackend
from batchspec.compile import compile_spec
from batchspec.errors import BatchspecError
from batchspec.io import bigquery as bqio
from batchspec.model.enums import JobState
from batchspec.results import Outcome, job_results
from batchspec.testing.cloud import predict
from tests.cloud.conftest import REGION, anonymous

WHEN = dt.datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)


def test_uri_parsing_and_destinations() -> None:
    assert bqio.parse_uri("bq://p.d.t") == bqio.BigQueryRef("p", "d", "t")
    assert bqio.parse_uri("bq://p").dataset is None
    for bad in ("gs://x", "bq://", "bq://p..t", "bq://a.b.c.d"):
        with pytest.raises(BatchspecError):
            bqio.parse_uri(bad)
    project = bqio.output_tables("bq://p", name="churn-model v2", when=WHEN)
    assert project.dataset == "prediction_churn_model_v2_2024_05_01T10_00_00_123Z"
    assert (project.predictions, project.errors, project.create_dataset) == (
        "predictions",
        "errors",
        True,
    )
    dataset = bqio.output_tables("bq://p.scores", name="x", when=WHEN)
    assert dataset.predictions_uri == "bq://p.scores.predictions_2024_05_01T10_00_00_123Z"
    assert dataset.errors_uri == "bq://p.scores.errors_2024_05_01T10_00_00_123Z"
    assert not dataset.create_dataset


def test_schema_inference() -> None:
    rows = [{"a": 1, "b": "x", "c": None, "d": {"n": 1}}, {"a": 2.5, "b": "y", "c": True}]
    assert bqio.infer_schema(rows) == [
        ("a", "FLOAT64"),
        ("b", "STRING"),
        ("c", "BOOL"),
        ("d", "STRING"),
    ]


def test_read_source_rows_as_instances(bq) -> None:
    from google.cloud import bigquery

    dataset = f"src_{uuid.uuid4().hex[:8]}"
    bq.create_dataset(dataset)
    table = f"{bq.project}.{dataset}.customers"
    schema = [
        bigquery.SchemaField("customer_id", "STRING"),
        bigquery.SchemaField("tenure", "INT64"),
        bigquery.SchemaField("since", "DATE"),
    ]
    bq.create_table(bigquery.Table(table, schema=schema))
    assert not bq.insert_rows_json(
        table,
        [
            {"customer_id": "c1", "tenure": 3, "since": "2020-01-02"},
            {"customer_id": "c2", "tenure": 7, "since": "2021-03-04"},
        ],
    )
    rows = sorted(bqio.read_rows(f"bq://{table}", client=bq), key=lambda r: r["customer_id"])
    assert rows == [
        {"customer_id": "c1", "tenure": 3, "since": "2020-01-02"},
        {"customer_id": "c2", "tenure": 7, "since": "2021-03-04"},
    ]
    with pytest.raises(BatchspecError, match="not found"):
        list(bqio.read_rows(f"bq://{bq.project}.{dataset}.nope", client=bq))


def test_write_job_output_round_trip(bq) -> None:
    tables = bqio.write_job_output(
        f"bq://{bq.project}",
        [{"id": 1, "prediction": {"score": 0.5}}, {"id": 2, "prediction": {"score": 0.9}}],
        [{"id": 3, "errors": {"code": 3, "message": "bad row"}}],
        name="scores",
        when=dt.datetime.now(dt.UTC),
        client=bq,
    )
    records = list(job_results([tables.predictions_uri, tables.errors_uri], bigquery_client=bq))
    assert sorted((r.instance["id"], r.outcome) for r in records) == [
        (1, Outcome.PREDICTED),
        (2, Outcome.PREDICTED),
        (3, Outcome.FAILED),
    ]
    by_id = {r.instance["id"]: r for r in records}
    assert by_id[2].prediction == {"score": 0.9}
    assert by_id[3].error is not None and by_id[3].error.message == "bad row"
    with pytest.raises(BatchspecError, match="already exists"):
        bqio.write_rows(tables.predictions_uri, [{"id": 1}], client=bq)


def test_vertex_job_from_bigquery_to_bigquery(bq, double, fast_retry, make_spec) -> None:
    project = bq.project
    dataset = f"crm_{uuid.uuid4().hex[:8]}"
    bq.create_dataset(dataset)
    rows = [{"customer_id": f"c{i}", "tenure": i} for i in range(6)]
    source = f"bq://{project}.{dataset}.customers"
    bqio.write_rows(source, rows, client=bq)
    job = compile_spec(
        make_spec(
            "churn",
            merge=False,
            project=project,
            model={"resource": f"projects/{project}/locations/{REGION}/models/1"},
            input={"format": "BIGQUERY", "bigquery": source},
            output={"format": "BIGQUERY", "bigquery": f"bq://{project}"},
        )
    )
    backend = VertexBackend(
        project, REGION, credentials=anonymous(), api_endpoint=double.url, **fast_retry
    )
    double.end_next_job_as("PARTIALLY_SUCCEEDED")
    remote = backend.submit(job)
    while not remote.terminal:
        remote = backend.get(remote.remote_name)
    assert remote.state is JobState.PARTIALLY_SUCCEEDED, double.executor_failures
    assert remote.output_location and remote.output_location.startswith(
        f"bq://{project}.prediction_churn_"
    )
    outputs = backend.outputs(remote.remote_name)
    assert [o.rsplit(".", 1)[-1] for o in outputs] == ["predictions", "errors"]
    joined = list(job_results(outputs, inputs=[source], bigquery_client=bq))
    assert [j.instance["customer_id"] for j in joined] == [r["customer_id"] for r in rows]
    assert [j.outcome for j in joined].count(Outcome.FAILED) == 2
    ok = [j for j in joined if j.outcome is Outcome.PREDICTED]
    assert len(ok) == 4
    assert all(j.prediction == predict(j.instance) for j in ok)


def test_a_load_makes_the_table_whole_and_only_once(bq, bq_dataset, tmp_path) -> None:
    table = f"bq://{bq.project}.{bq_dataset}.loaded"
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(f'{{"id": {i}, "v": "x{i}"}}\n' for i in range(1200)))
    schema = [("id", "INT64"), ("v", "STRING")]
    bqio.load_json_lines(table, source, schema, job_id="batchspec_t_loaded", client=bq)
    assert bqio.table_rows(table, client=bq) == 1200
    with pytest.raises(BatchspecError, match="refused the load"):
        bqio.load_json_lines(table, source, schema, job_id="batchspec_t_other", client=bq)
    assert bqio.table_rows(table, client=bq) == 1200, "WRITE_EMPTY: never appended"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    bqio.load_json_lines(f"{table}_e", empty, schema, job_id="batchspec_t_e", client=bq)
    assert bqio.table_rows(f"{table}_e", client=bq) == 0
    assert bqio.table_rows(f"{table}_none", client=bq) is None


class FakeLoads:
    """A client whose load jobs already exist (BigQuery's 409 for a known job id)."""

    def __init__(self, known: dict[str, str]) -> None:
        self.known = known  # job id -> "running" | "failed"
        self.created: list[str] = []
        self.awaited: list[str] = []

    def load_table_from_file(self, handle, table, *, job_config, job_id, location):  # type: ignore[no-untyped-def]
        from google.api_core import exceptions

        if job_id in self.known:
            raise exceptions.Conflict(f"Already Exists: Job {job_id}")
        self.created.append(job_id)
        return self._job(job_id, "running")

    def get_job(self, job_id, location=None):  # type: ignore[no-untyped-def]
        return self._job(job_id, self.known[job_id])

    def _job(self, job_id: str, how: str):  # type: ignore[no-untyped-def]
        fake = self

        class Job:
            state = "DONE" if how == "failed" else "RUNNING"
            error_result = {"reason": "backendError"} if how == "failed" else None

            def result(self) -> None:
                fake.awaited.append(job_id)

        return Job()


def test_a_load_already_started_is_awaited_not_repeated(tmp_path) -> None:
    """After a crash or a lost answer, the same job id finds the first load."""
    source = tmp_path / "rows.jsonl"
    source.write_text('{"id": 1}\n')
    client = FakeLoads({"batchspec_j_t": "running"})
    bqio.load_json_lines(
        "bq://p.d.t", source, [("id", "INT64")], job_id="batchspec_j_t", client=client
    )
    assert (client.created, client.awaited) == ([], ["batchspec_j_t"])
    # A known load that failed is tried again under the next id.
    client = FakeLoads({"batchspec_j_t": "failed"})
    bqio.load_json_lines(
        "bq://p.d.t", source, [("id", "INT64")], job_id="batchspec_j_t", client=client
    )
    assert (client.created, client.awaited) == (["batchspec_j_t_r1"], ["batchspec_j_t_r1"])
