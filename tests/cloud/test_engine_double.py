"""The double runs its jobs on the real local engine: a Vertex spec submitted
through VertexBackend and the real client library, executed by the engine
against fake-gcs-server (or bqemulator), its outputs found through
outputInfo and joined back to the input keys by batchspec.results."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from batchspec.backends.vertex import VertexBackend
from batchspec.compile import compile_spec
from batchspec.io import bigquery as bqio
from batchspec.io import storage
from batchspec.model.enums import JobState
from batchspec.results import Outcome, job_results
from batchspec.testing.cloud import CloudDouble, predict
from batchspec.testing.cloud.engine import EngineExecutor, refuses
from tests.cloud.conftest import PROJECT, REGION, anonymous
from tests.cloud.test_end_to_end import REVIEWS, run_to_end, upload


def without(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != key}


def on_the_engine(double: CloudDouble, tmp_path: Path, retry: Any, project: str = PROJECT) -> Any:
    """A VertexBackend on the double, whose jobs run on the local engine."""
    double.executor = EngineExecutor(tmp_path / "engine")
    return VertexBackend(
        project, REGION, credentials=anonymous(), api_endpoint=double.url, retry=retry
    )


def test_vertex_job_runs_on_the_engine_and_joins_back(
    tmp_path: Path, gcs: Any, bucket: str, double: CloudDouble, fast_retry: Any, make_spec: Any
) -> None:
    backend = on_the_engine(double, tmp_path, fast_retry)
    upload(gcs, bucket)
    job = compile_spec(
        make_spec(
            "review_scores",
            input={"paths": [f"gs://{bucket}/requests/part-*"], "keyField": "review_id"},
            output={"path": f"gs://{bucket}/results/"},
        )
    )
    double.end_next_job_as("PARTIALLY_SUCCEEDED")
    remote = run_to_end(backend, backend.submit(job))
    refused = [r["review_id"] for r in REVIEWS if refuses(without(r, "review_id"))]
    assert refused, "the reviews must exercise a refusal"
    assert remote.state is JobState.PARTIALLY_SUCCEEDED, (double.executor_failures, remote.error)
    assert (remote.completed_count, remote.failed_count) == (
        len(REVIEWS) - len(refused),
        len(refused),
    )
    assert isinstance(double.executor, EngineExecutor) and len(double.executor.runs) == 1
    assert double.rejected == []

    # The engine's own files, in the folder the service reported.
    folder = remote.output_location or ""
    assert folder.startswith(f"gs://{bucket}/results/prediction-review_scores-")
    names = [f.rsplit("/", 1)[-1] for f in storage.list_files(folder)]
    assert names == [
        "batchspec-manifest.json",
        "prediction.errors_stats-00000-of-00002",
        "prediction.errors_stats-00001-of-00002",
        "prediction.results-00000-of-00002",
        "prediction.results-00001-of-00002",
    ]
    with storage.open_text(f"{folder}/batchspec-manifest.json") as fh:
        manifest = json.load(fh)
    assert manifest["state"] == "PARTIALLY_SUCCEEDED"
    for entry in manifest["files"]:
        with storage.open_binary(f"{folder}/{entry['name']}") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == entry["sha256"]

    # Joined back to the inputs by key: every review once.
    joined = list(
        job_results(
            backend.outputs(remote.remote_name),
            inputs=[f"gs://{bucket}/requests/part-*"],
            key_field="review_id",
        )
    )
    assert [j.key for j in joined] == [r["review_id"] for r in REVIEWS]
    for review, record in zip(REVIEWS, joined, strict=True):
        if review["review_id"] in refused:
            assert record.outcome is Outcome.FAILED and record.error is not None
            assert "injected failure: instance could not be scored" in record.error.message
            assert record.error.code == "INTERNAL"
        else:
            assert record.outcome is Outcome.PREDICTED
            assert record.prediction == predict(without(review, "review_id"))


def test_a_model_that_cannot_load_fails_the_service_job(
    tmp_path: Path, gcs: Any, bucket: str, double: CloudDouble, fast_retry: Any, make_spec: Any
) -> None:
    backend = on_the_engine(double, tmp_path, fast_retry)
    upload(gcs, bucket)
    job = compile_spec(
        make_spec(
            input={"paths": [f"gs://{bucket}/requests/*"]}, output={"path": f"gs://{bucket}/r/"}
        )
    )
    double.end_next_job_as("FAILED")
    remote = run_to_end(backend, backend.submit(job))
    assert remote.state is JobState.FAILED
    assert "injected failure: model crashed" in (remote.error or "")


def test_vertex_job_from_bigquery_to_bigquery_on_the_engine(
    tmp_path: Path, bq: Any, bq_dataset: str, double: CloudDouble, fast_retry: Any, make_spec: Any
) -> None:
    backend = on_the_engine(double, tmp_path, fast_retry, project=bq.project)
    rows = [
        {"customer_id": f"c{i}", "tenure": i, "plan": "pro" if i % 2 else "free"} for i in range(7)
    ]
    source = f"bq://{bq.project}.{bq_dataset}.customers"
    bqio.write_rows(source, rows, client=bq)
    job = compile_spec(
        make_spec(
            "churn",
            merge=False,
            project=bq.project,
            model={"resource": f"projects/{bq.project}/locations/{REGION}/models/1"},
            input={"format": "BIGQUERY", "bigquery": source, "keyField": "customer_id"},
            output={"format": "BIGQUERY", "bigquery": f"bq://{bq.project}"},
        )
    )
    remote = run_to_end(backend, backend.submit(job))
    assert remote.state is JobState.SUCCEEDED, (double.executor_failures, remote.error)
    outputs = backend.outputs(remote.remote_name)
    assert [o.rsplit(".", 1)[-1] for o in outputs] == ["predictions", "errors"]
    assert outputs[0].startswith(f"bq://{bq.project}.prediction_churn_")
    joined = list(
        job_results(outputs, inputs=[source], key_field="customer_id", bigquery_client=bq)
    )
    assert [j.key for j in joined] == [r["customer_id"] for r in rows]
    # Vertex's default for BigQuery rows: an array in column order, key left out.
    assert [j.prediction for j in joined] == [predict([r["tenure"], r["plan"]]) for r in rows]
