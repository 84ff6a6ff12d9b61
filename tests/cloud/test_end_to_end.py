"""From a spec file to joined results: validate, compile, submit through the
real client library to the double, follow the job to its end, find its
outputs through the service's answer, read them from fake-gcs-server and
join them to the input keys. One test per target, plus a crash between
submit and recording (the next run adopts)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from batchspec.backends.genai import GenaiBackend
from batchspec.backends.mlengine import MLEngineBackend
from batchspec.backends.vertex import VertexBackend
from batchspec.compile import compile_spec
from batchspec.model.enums import JobState
from batchspec.results import Outcome, job_results
from batchspec.testing.cloud import predict
from batchspec.validate.paths import validate_paths
from tests.cloud.conftest import PROJECT, REGION, anonymous, token_credentials

REVIEWS = [{"review_id": f"r{i}", "text": f"review number {i}", "stars": i % 5} for i in range(10)]


def load(tmp_path: Path, text: str):
    path = tmp_path / "job.yaml"
    path.write_text(textwrap.dedent(text))
    result = validate_paths([str(path)])
    assert result.ok, result.diagnostics
    (loaded,) = result.specs
    return loaded


def upload(gcs, bucket: str) -> None:
    half = len(REVIEWS) // 2
    for n, part in enumerate((REVIEWS[:half], REVIEWS[half:])):
        body = "".join(json.dumps(r) + "\n" for r in part).encode()
        gcs.pipe(f"{bucket}/requests/part-{n}.jsonl", body)


def run_to_end(backend, remote, limit: int = 20):
    for _ in range(limit):
        if remote.terminal:
            return remote
        remote = backend.get(remote.remote_name)
    raise AssertionError(f"{remote.remote_name} never finished: {remote.state}")


def test_vertex_spec_from_submit_to_joined_results(
    tmp_path, gcs, bucket, double, fast_retry
) -> None:
    upload(gcs, bucket)
    loaded = load(
        tmp_path,
        f"""\
        apiVersion: batchspec.dev/v1
        kind: BatchPredictionJob
        metadata:
          name: review_scores
          labels: {{team: growth}}
        spec:
          target: vertex
          model:
            resource: projects/{PROJECT}/locations/{REGION}/models/4402154895343943680
          input:
            format: JSONL
            paths: [gs://{bucket}/requests/part-*]
            keyField: review_id
          output:
            path: gs://{bucket}/results/
          resources:
            machineType: n1-standard-4
            replicaCount: 2
        """,
    )
    env = {"BATCHSPEC_PROJECT": PROJECT, "BATCHSPEC_REGION": REGION}
    job = compile_spec(loaded.spec, source=loaded.file, env=env)
    backend = VertexBackend(credentials=anonymous(), api_endpoint=double.url, **fast_retry, env=env)
    double.end_next_job_as("PARTIALLY_SUCCEEDED")
    remote = run_to_end(backend, backend.submit(job))
    assert remote.state is JobState.PARTIALLY_SUCCEEDED
    assert double.rejected == []

    outputs = backend.outputs(remote.remote_name)
    assert all(o.startswith(remote.output_location or "?") for o in outputs)
    spec_input = loaded.spec.spec.input
    joined = list(
        job_results(outputs, inputs=list(spec_input.paths or []), key_field=spec_input.key_field)
    )
    assert [j.key for j in joined] == [r["review_id"] for r in REVIEWS]
    by_key = {j.key: j for j in joined}
    for review in REVIEWS:
        record = by_key[review["review_id"]]
        assert record.instance == review
        if record.outcome is Outcome.PREDICTED:
            # The model never sees the key field (Vertex drops it).
            assert record.prediction == predict(
                {k: v for k, v in review.items() if k != "review_id"}
            )
        else:
            assert record.outcome is Outcome.FAILED and record.error is not None
    outcomes = [j.outcome for j in joined]
    assert outcomes.count(Outcome.FAILED) == remote.failed_count == 3
    assert outcomes.count(Outcome.PREDICTED) == remote.completed_count == 7


def test_crash_after_submit_is_adopted_by_the_next_run(
    gcs, bucket, double, fast_retry, make_spec
) -> None:
    """A controller that died before recording the job submits again: adopted."""
    upload(gcs, bucket)
    job = compile_spec(
        make_spec(
            input={"paths": [f"gs://{bucket}/requests/*"]}, output={"path": f"gs://{bucket}/r/"}
        )
    )
    first = VertexBackend(
        PROJECT, REGION, credentials=anonymous(), api_endpoint=double.url, **fast_retry
    )
    created = first.submit(job)
    del first  # the process is gone; nothing was recorded
    second = VertexBackend(
        PROJECT, REGION, credentials=anonymous(), api_endpoint=double.url, **fast_retry
    )
    assert second.submit(job).remote_name == created.remote_name
    assert len(double.create_calls()) == 1


def test_legacy_shard_files_join_too(gcs, bucket, double, fast_retry, make_spec) -> None:
    """Custom-container jobs write prediction.results-* / errors_stats-* instead."""
    from batchspec.testing.cloud import FileExecutor

    double.executor = FileExecutor(style="shards")
    upload(gcs, bucket)
    job = compile_spec(
        make_spec(
            input={"paths": [f"gs://{bucket}/requests/*"]}, output={"path": f"gs://{bucket}/r/"}
        )
    )
    backend = VertexBackend(
        PROJECT, REGION, credentials=anonymous(), api_endpoint=double.url, **fast_retry
    )
    double.end_next_job_as("PARTIALLY_SUCCEEDED")
    remote = run_to_end(backend, backend.submit(job))
    joined = list(
        job_results(backend.outputs(remote.remote_name), inputs=[f"gs://{bucket}/requests/*"])
    )
    outcomes = [j.outcome for j in joined]
    # errors_stats lines carry only a message: those inputs are MISSING, the
    # messages come after as UNMATCHED errors.
    assert outcomes.count(Outcome.PREDICTED) == 7
    assert outcomes.count(Outcome.MISSING) == 3
    assert outcomes.count(Outcome.UNMATCHED) == 3
    assert all(j.error is not None for j in joined if j.outcome is Outcome.UNMATCHED)


def test_genai_spec_to_results(gcs, bucket, double, fast_retry, make_spec) -> None:
    upload(gcs, bucket)
    job = compile_spec(
        make_spec(
            target="genai",
            input={"paths": [f"gs://{bucket}/requests/part-0.jsonl"]},
            output={"path": f"gs://{bucket}/g/"},
        )
    )
    backend = GenaiBackend(
        PROJECT,
        REGION,
        credentials=token_credentials(),
        base_url=double.url + "/",
        **fast_retry,
    )
    remote = run_to_end(backend, backend.submit(job))
    assert remote.state is JobState.SUCCEEDED
    joined = list(
        job_results(
            backend.outputs(remote.remote_name), inputs=[f"gs://{bucket}/requests/part-0.jsonl"]
        )
    )
    assert [j.outcome for j in joined] == [Outcome.PREDICTED] * 5
    assert [j.prediction for j in joined] == [predict(r) for r in REVIEWS[:5]]


def test_ml_engine_spec_to_results(gcs, bucket, double, fast_retry, make_spec) -> None:
    rows = [{"key": i, "x": i * 1.5} for i in range(6)]
    gcs.pipe(f"{bucket}/census/in.json", "".join(json.dumps(r) + "\n" for r in rows).encode())
    job = compile_spec(
        make_spec(
            "census",
            target="mlengine",
            input={"paths": [f"gs://{bucket}/census/*"]},
            output={"path": f"gs://{bucket}/census-out/"},
        )
    )
    backend = MLEngineBackend(
        PROJECT, REGION, credentials=anonymous(), api_endpoint=double.url, **fast_retry
    )
    double.end_next_job_as("PARTIALLY_SUCCEEDED")
    remote = run_to_end(backend, backend.submit(job))
    assert remote.state is JobState.SUCCEEDED and remote.failed_count == 2
    joined = list(
        job_results(
            backend.outputs(remote.remote_name), inputs=[f"gs://{bucket}/census/*"], key_field="key"
        )
    )
    predicted = [j for j in joined if j.outcome is Outcome.PREDICTED]
    assert [j.key for j in predicted] == [0, 1, 3, 4]
    assert predicted[0].prediction == {"key": 0, **predict(rows[0])}
    stats = [j for j in joined if j.outcome is Outcome.UNMATCHED]
    assert len(stats) == 1 and stats[0].error is not None
    assert "could not be parsed" in stats[0].error.message


@pytest.mark.parametrize(
    "spec_file", ["catalogue_vertex.yaml", "review_sentiment_genai.yaml", "census_mlengine.yaml"]
)
def test_every_example_cloud_spec_is_accepted_by_the_double(spec_file, double, fast_retry) -> None:
    """The shipped example specs submit cleanly: the double validates each body
    against the discovery document, as the service's front end would."""
    from tests.conftest import SPECS

    result = validate_paths([str(SPECS / spec_file)])
    for loaded in result.specs:
        job = compile_spec(loaded.spec)
        backend = {
            "vertex": lambda: VertexBackend(
                credentials=anonymous(), api_endpoint=double.url, **fast_retry
            ),
            "genai": lambda: GenaiBackend(
                credentials=token_credentials(), base_url=double.url + "/", **fast_retry
            ),
            "mlengine": lambda: MLEngineBackend(
                credentials=anonymous(), api_endpoint=double.url, **fast_retry
            ),
        }[job.target.value]()
        remote = backend.submit(job)
        assert remote.job_name == loaded.spec.metadata.name
    assert double.rejected == []
    assert len(double.jobs) == len(result.specs)
