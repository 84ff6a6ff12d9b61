"""`batchspec apply` of a Vertex spec, end to end through the CLI: the registry
builds the real VertexBackend (plugged in through BATCHSPEC_BACKEND_VERTEX, the
site plug-in point, only to hand it anonymous credentials), which talks REST to
the double; the job is followed to its end, `batchspec results --inputs` joins
the outputs in fake-gcs-server to every input key, and a second apply submits
nothing."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from batchspec.cli.main import main
from tests.cloud.conftest import PROJECT, REGION, anonymous
from tests.cloud.test_end_to_end import REVIEWS, upload


def double_vertex() -> Any:
    """Registry factory: the production backend, configured from the environment,
    with anonymous credentials for the double."""
    from batchspec.backends.vertex import VertexBackend

    return VertexBackend(credentials=anonymous())


def review_spec(bucket: str) -> str:
    """A Vertex AI spec scoring the reviews `upload` put in `bucket`."""
    return textwrap.dedent(
        f"""\
        apiVersion: batchspec.dev/v1
        kind: BatchPredictionJob
        metadata:
          name: review_scores
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
        """
    )


def test_apply_wait_then_results(
    tmp_path: Path, gcs, bucket, double, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    upload(gcs, bucket)
    spec = tmp_path / "specs" / "reviews.yaml"
    spec.parent.mkdir()
    spec.write_text(review_spec(bucket))
    monkeypatch.setenv("BATCHSPEC_PROJECT", PROJECT)
    monkeypatch.setenv("BATCHSPEC_REGION", REGION)
    monkeypatch.setenv("BATCHSPEC_VERTEX_ENDPOINT", double.url)
    monkeypatch.setenv("BATCHSPEC_BACKEND_VERTEX", f"{__name__}:double_vertex")
    monkeypatch.setenv("BATCHSPEC_STATE", str(tmp_path / "state.db"))
    # The controller follows jobs with list calls (one per page), so let jobs
    # move on in time, as the service's do, rather than one step per `get`.
    double.step_seconds = 0.05
    double.end_next_job_as("PARTIALLY_SUCCEEDED")

    assert main(["apply", str(spec.parent), "--wait", "--interval", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "review_scores" in out and "PARTIALLY_SUCCEEDED" in out
    assert len(double.create_calls()) == 1

    assert main(["results", "review_scores", "--inputs", "--errors"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["key"] for r in rows) == sorted(r["review_id"] for r in REVIEWS)
    outcomes = [r["outcome"] for r in rows]
    assert set(outcomes) == {"predicted", "failed"} and outcomes.count("failed") == 3
    assert all(r["instance"]["review_id"] == r["key"] for r in rows)

    assert main(["apply", str(spec.parent)]) == 0
    assert "No changes" in capsys.readouterr().out
    assert len(double.create_calls()) == 1
