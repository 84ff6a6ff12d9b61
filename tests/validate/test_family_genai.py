"""google-genai's Gemini Developer API mode, each case with its source."""

from __future__ import annotations

import pytest

from batchspec.compile import compile_spec
from batchspec.compile.identity import body_labels, display_fingerprint, strip_identity
from batchspec.model.enums import Target
from batchspec.model.jobs import LABEL_FINGERPRINT
from tests.validate.cases import Case, check_case, diagnose, ids
from tests.validate.helpers import DROP

SOURCE = "google-genai _transformers.t_batch_job_source (Gemini Developer API branch)"
INLINE = "google-genai types.InlinedRequest (model, contents, metadata, config)"
CONFIG = "google-genai batches._CreateBatchJobConfig_to_mldev (no dest)"
FILES = "https://ai.google.dev/api/files#File (files/ID)"
FILE_INPUT = {"input.requests": DROP, "input.fileName": "files/abc-123"}

CASES: list[Case] = [
    Case("inline", "gemini", {}, None, source=INLINE),
    Case("file", "gemini", FILE_INPUT, None, source=SOURCE),
    Case(
        "file-40",
        "gemini",
        {**FILE_INPUT, "input.fileName": "files/" + "a" * 40},
        None,
        source=FILES,
    ),
    Case(
        "file-41",
        "gemini",
        {**FILE_INPUT, "input.fileName": "files/" + "a" * 41},
        "BS237",
        "spec.input.fileName",
        FILES,
    ),
    Case(
        "file-dash-first",
        "gemini",
        {**FILE_INPUT, "input.fileName": "files/-abc"},
        "BS237",
        "spec.input.fileName",
        FILES,
    ),
    Case(
        "file-gcs",
        "gemini",
        {**FILE_INPUT, "input.fileName": "gs://bucket/x.jsonl"},
        "BS237",
        "spec.input.fileName",
        FILES,
    ),
    Case("both-inputs", "gemini", {"input.fileName": "files/abc"}, "BS230", "spec.input", SOURCE),
    Case(
        "paths",
        "gemini",
        {"input.requests": DROP, "input.paths": ["gs://bucket/x.jsonl"]},
        "BS230",
        "spec.input",
        SOURCE,
    ),
    Case(
        "unknown-request-key",
        "gemini",
        {"input.requests": [{"contents": [], "generationConfig": {}}]},
        "BS237",
        "spec.input.requests[0].generationConfig",
        INLINE,
    ),
    Case(
        "request-without-contents",
        "gemini",
        {"input.requests": [{"config": {}}]},
        "BS237",
        "spec.input.requests[0]",
        INLINE,
    ),
    Case("csv", "gemini", {"input.format": "CSV"}, "BS237", "spec.input.format", SOURCE),
    Case(
        "output-path",
        "gemini",
        {"output.path": "gs://bucket/out/"},
        "BS240",
        "spec.output.path",
        CONFIG,
    ),
    Case(
        "project-ignored",
        "gemini",
        {"project": "proj-123456"},
        "BS301",
        "spec.project",
        "google-genai Client(api_key=...) (no project)",
        True,
    ),
    Case(
        "service-account",
        "gemini",
        {"serviceAccount": "a@b.iam.gserviceaccount.com"},
        "BS301",
        "spec.serviceAccount",
        "google-genai types.CreateBatchJobConfig",
    ),
    Case(
        "key-env",
        "gemini",
        {"genai.apiKeyEnv": "MY_GEMINI_KEY"},
        None,
        source="google-genai Client(api_key=...)",
    ),
    Case(
        "key-env-not-a-name",
        "gemini",
        {"genai.apiKeyEnv": "MY-KEY"},
        "BS237",
        "spec.genai.apiKeyEnv",
        "an environment variable name",
    ),
    Case(
        "key-env-is-a-key",
        "gemini",
        {"genai.apiKeyEnv": "AIzaSyA1b2C3d4"},
        "BS237",
        "spec.genai.apiKeyEnv",
        "https://cloud.google.com/docs/authentication/api-keys",
    ),
    Case(
        "requests-on-vertex",
        "vertex",
        {"input.paths": DROP, "input.requests": [{"contents": []}]},
        "BS301",
        "spec.input.requests",
        f"{SOURCE} (Vertex: gcs_uri or bigquery_uri only)",
    ),
    Case(
        "requests-on-genai-vertex",
        "genai",
        {"input.paths": DROP, "input.requests": [{"contents": []}]},
        "BS301",
        "spec.input.requests",
        f"{SOURCE} (Vertex mode)",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_gemini_developer_api(case: Case) -> None:
    check_case(case)


def test_gemini_body_carries_the_fingerprint_in_the_display_name_and_no_key() -> None:
    spec, _ = diagnose(CASES[0])
    assert spec is not None
    job = compile_spec(spec, env={})
    assert job.parent is None
    assert job.body["model"] == "models/gemini-2.0-flash"
    assert isinstance(job.body["src"], list) and "dest" not in job.body["config"]
    name, fp = display_fingerprint(job.body["config"]["display_name"])
    assert name == "job_one" and fp == job.labels[LABEL_FINGERPRINT]
    assert body_labels(Target.GENAI, job.body) == {LABEL_FINGERPRINT: fp}
    core = strip_identity(Target.GENAI, job.body, name="job_one")
    assert core["config"]["display_name"] == "job_one"
    assert "api_key" not in repr(job.body) and "http_options" not in job.body["config"]
