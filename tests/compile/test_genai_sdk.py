"""Every compiled google-genai call goes through the real google-genai client:
on Vertex AI against the REST double (batchspec.testing.cloud), which routes by
the discovery document and refuses bodies its schema refuses; on the Gemini
Developer API against the Gemini double. Checked for every example spec, every
golden spec and every genai case of the rule tables, plus a few shapes of
source and destination."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from batchspec.compile import compile_spec
from batchspec.compile.discovery import match_path, request_problems
from batchspec.compile.genai import wire_body
from batchspec.compile.identity import gemini_api_body
from batchspec.errors import CompileError
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob
from batchspec.testing.cloud import CloudDouble
from batchspec.testing.cloud.gemini import GeminiDouble
from batchspec.validate import validate_paths
from tests.compile.conftest import make_spec
from tests.compile.test_validate_agrees import ALL_CASES
from tests.conftest import SPECS
from tests.validate.cases import diagnose

KEY = "k-not-a-real-key"


def _genai_jobs() -> list[tuple[str, CompiledJob]]:
    """(id, job) for every spec that compiles for target genai."""
    found: list[tuple[str, CompiledJob]] = []
    for loaded in validate_paths([str(SPECS)]).specs:
        try:
            found.append((f"example-{loaded.name}", compile_spec(loaded.spec, target=Target.GENAI)))
        except CompileError:
            continue
    for case in ALL_CASES:
        spec, _ = diagnose(case)
        if spec is not None and spec.spec.target is Target.GENAI:
            found.append((f"case-{case.id}", compile_spec(spec, env={})))
    shapes = {
        "several-files": {"input": {"paths": ["gs://bucket/a.jsonl", "gs://bucket/more/*"]}},
        "bigquery": {
            "input": {"format": "BIGQUERY", "paths": None, "bigquery": "bq://proj-123456.d.t"},
            "output": {"path": None, "bigquery": "bq://proj-123456.out", "format": "BIGQUERY"},
        },
    }
    for name, changes in shapes.items():
        spec = make_spec("genai", changes, labels={"team": "growth"})
        found.append((f"shape-{name}", compile_spec(spec, env={})))
    return found


GENAI_JOBS = _genai_jobs()


def test_the_examples_and_every_mode_are_covered() -> None:
    names = [n for n, _ in GENAI_JOBS]
    assert "example-review_sentiment_claude" in names
    assert any(gemini_api_body(Target.GENAI, j.body) for _, j in GENAI_JOBS)
    assert any(not gemini_api_body(Target.GENAI, j.body) for _, j in GENAI_JOBS)


@pytest.fixture(scope="module")
def doubles() -> Iterator[tuple[CloudDouble, GeminiDouble]]:
    with CloudDouble() as vertex, GeminiDouble() as gemini:
        yield vertex, gemini
        assert vertex.errors == []


def _credentials() -> Any:
    from google.oauth2.credentials import Credentials

    expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    return Credentials(token="t", expiry=expiry)


@pytest.mark.parametrize("job", [j for _, j in GENAI_JOBS], ids=[n for n, _ in GENAI_JOBS])
def test_google_genai_sends_what_batchspec_predicts(
    doubles: tuple[CloudDouble, GeminiDouble], job: CompiledJob
) -> None:
    from google import genai
    from google.genai import types

    vertex, gemini = doubles
    config = types.CreateBatchJobConfig.model_validate(job.body["config"])
    if gemini_api_body(job.target, job.body):
        client = genai.Client(
            api_key=KEY, http_options=types.HttpOptions(base_url=gemini.url + "/")
        )
        before = len(gemini.creates)
        created = client.batches.create(model=job.body["model"], src=job.body["src"], config=config)
        assert created.name and created.name.startswith("batches/")
        assert len(gemini.creates) == before + 1 and gemini.rejected == []
        return
    assert job.parent is not None
    project, location = job.parent.split("/")[1], job.parent.split("/")[3]
    client = genai.Client(
        vertexai=True,
        project=project,
        location=location,
        credentials=_credentials(),
        http_options=types.HttpOptions(base_url=vertex.url + "/"),
    )
    before = len(vertex.create_calls("genai"))
    created = client.batches.create(model=job.body["model"], src=job.body["src"], config=config)
    calls = vertex.create_calls("genai")
    assert len(calls) == before + 1 and vertex.rejected == []
    call = calls[-1]
    assert created.name and created.name.startswith(job.parent + "/batchPredictionJobs/")
    assert call.path == f"/v1beta1/{job.parent}/batchPredictionJobs"
    assert call.body == wire_body(job.body)
    assert call.body["labels"]["batchspec-fp"] == job.fingerprint[:63]
    route = match_path("aiplatform", "v1beta1", "POST", call.path)
    assert route is not None
    assert request_problems("aiplatform", "v1beta1", route[0].id, call.body, route[1]) == []
