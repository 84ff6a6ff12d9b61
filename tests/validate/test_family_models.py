"""Model names and model/job locations, per service, each case with its source."""

from __future__ import annotations

import pytest

from batchspec.compile import compile_spec
from batchspec.validate.rules.models import expand_publisher
from tests.validate.cases import Case, check_case, diagnose, ids

MODEL = "aiplatform v1 BatchPredictionJob.model"
MODEL_ID = "aiplatform v1 UploadModelRequest.model_id (63 of [a-z0-9_-], not a digit or - first)"
ALIAS = "aiplatform v1 Model.version_aliases ([a-z][a-zA-Z0-9-]{0,126}[a-z0-9])"
T_MODEL = "google-genai _transformers.t_model"
GLOBAL = (
    "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/"
    "batch-prediction-from-cloud-storage"
)
MLE = "https://cloud.google.com/ai-platform/prediction/docs/managing-models-jobs"
R, P = "spec.model.resource", "spec.model.publisher"
BASE = "projects/proj-123456/locations/us-central1"


def res(value: str) -> dict[str, object]:
    return {"model": {"resource": value}}


def pub(value: str) -> dict[str, object]:
    return {"model": {"publisher": value}}


CASES: list[Case] = [
    Case("resource-numeric", "vertex", res(f"{BASE}/models/123"), None, source=MODEL),
    Case("resource-version-id", "vertex", res(f"{BASE}/models/123@2"), None, source=MODEL),
    Case("resource-alias", "vertex", res(f"{BASE}/models/123@golden"), None, source=MODEL),
    Case("resource-custom-id", "vertex", res(f"{BASE}/models/my_model-1"), None, source=MODEL_ID),
    Case("resource-id-63", "vertex", res(f"{BASE}/models/{'m' * 63}"), None, source=MODEL_ID),
    Case("resource-id-64", "vertex", res(f"{BASE}/models/{'m' * 64}"), "BS254", R, MODEL_ID),
    Case("resource-id-digit-first", "vertex", res(f"{BASE}/models/1abc"), "BS254", R, MODEL_ID),
    Case("resource-id-upper", "vertex", res(f"{BASE}/models/MyModel"), "BS254", R, MODEL_ID),
    Case("resource-alias-128", "vertex", res(f"{BASE}/models/1@a{'b' * 127}"), None, source=ALIAS),
    Case("resource-alias-129", "vertex", res(f"{BASE}/models/1@a{'b' * 128}"), "BS254", R, ALIAS),
    Case("resource-alias-upper-first", "vertex", res(f"{BASE}/models/1@Golden"), "BS254", R, ALIAS),
    Case("resource-short", "vertex", res("models/1"), "BS254", R, MODEL),
    Case(
        "resource-is-publisher",
        "vertex",
        res(f"{BASE}/publishers/google/models/gemini-2.0-flash"),
        "BS254",
        R,
        MODEL,
    ),
    Case(
        "resource-project-spaces",
        "vertex",
        res("projects/my proj/locations/us-central1/models/1"),
        "BS254",
        R,
        MODEL,
    ),
    Case(
        "publisher-full",
        "vertex",
        pub("publishers/google/models/gemini-2.0-flash-001"),
        None,
        source=MODEL,
    ),
    Case(
        "publisher-located",
        "vertex",
        pub(f"{BASE}/publishers/google/models/gemini-2.0-flash"),
        None,
        source=MODEL,
    ),
    Case("publisher-short", "vertex", pub("gemini-2.0-flash-001"), None, source=T_MODEL),
    Case(
        "publisher-short-partner",
        "vertex",
        pub("anthropic/claude-3-5-haiku@20241022"),
        None,
        source=T_MODEL,
    ),
    Case(
        "publisher-models-form",
        "vertex",
        pub("models/gemini-2.0-flash"),
        "BS254",
        P,
        f"{MODEL}; {T_MODEL} passes models/... through unchanged",
    ),
    Case(
        "publisher-models-form-genai",
        "genai",
        pub("models/gemini-2.0-flash"),
        "BS254",
        P,
        f"{MODEL}; {T_MODEL}",
    ),
    Case("genai-dotdot", "genai", pub("gemini..flash"), "BS254", P, T_MODEL),
    Case("genai-ampersand", "genai", pub("gemini&x"), "BS254", P, T_MODEL),
    Case("genai-short", "genai", pub("gemini-2.0-flash-001"), None, source=T_MODEL),
    Case(
        "genai-tuned",
        "genai",
        res(f"{BASE}/models/123"),
        None,
        source=f"{GLOBAL} (tuned models as projects/P/locations/L/models/ID)",
    ),
    # where the model lives
    Case(
        "location-mismatch",
        "vertex",
        res("projects/proj-123456/locations/europe-west4/models/1"),
        "BS302",
        R,
        f"{MODEL} (must share the same ancestor Location)",
    ),
    Case(
        "located-publisher-mismatch",
        "vertex",
        pub("projects/proj-123456/locations/europe-west4/publishers/google/models/gemini-2.0"),
        "BS302",
        P,
        MODEL,
    ),
    Case("global-publisher", "publisher", {"region": "global"}, None, source=GLOBAL),
    Case(
        "global-resource",
        "vertex",
        {"region": "global", **res("projects/proj-123456/locations/global/models/1")},
        "BS302",
        "spec.region",
        GLOBAL,
    ),
    # Cloud ML Engine
    Case("mle-name", "mlengine", {"model": {"name": "census"}}, None, source=MLE),
    Case(
        "mle-name-full",
        "mlengine",
        {"model": {"name": "projects/proj-123456/models/census"}},
        None,
        source="ml v1 PredictionInput.modelName",
    ),
    Case("mle-name-128", "mlengine", {"model": {"name": "m" * 128}}, None, source=MLE),
    Case(
        "mle-name-129", "mlengine", {"model": {"name": "m" * 129}}, "BS254", "spec.model.name", MLE
    ),
    Case(
        "mle-name-dash",
        "mlengine",
        {"model": {"name": "census-v2"}},
        "BS254",
        "spec.model.name",
        MLE,
    ),
    Case(
        "mle-version", "mlengine", {"model": {"name": "census", "version": "v2"}}, None, source=MLE
    ),
    Case(
        "mle-version-digit-first",
        "mlengine",
        {"model": {"name": "census", "version": "2v"}},
        "BS254",
        "spec.model.version",
        MLE,
    ),
    Case(
        "mle-uri",
        "mlengine",
        {"model": {"uri": "gs://bucket/model/"}},
        None,
        source="ml v1 PredictionInput.uri",
    ),
    Case(
        "mle-uri-s3",
        "mlengine",
        {"model": {"uri": "s3://bucket/m"}},
        "BS254",
        "spec.model.uri",
        "ml v1 PredictionInput.uri",
    ),
    Case(
        "mle-uri-bucket",
        "mlengine",
        {"model": {"uri": "gs://b/m"}},
        "BS234",
        "spec.model.uri",
        "https://cloud.google.com/storage/docs/buckets#naming",
    ),
    # the Gemini Developer API
    Case("gemini-models-form", "gemini", {}, None, source=f"{T_MODEL} (Gemini Developer API)"),
    Case("gemini-short", "gemini", pub("gemini-2.0-flash"), None, source=T_MODEL),
    Case("gemini-tuned", "gemini", pub("tunedModels/my-model"), None, source=T_MODEL),
    Case(
        "gemini-publishers-form",
        "gemini",
        pub("publishers/google/models/gemini-2.0-flash"),
        "BS254",
        P,
        T_MODEL,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_model_names(case: Case) -> None:
    check_case(case)


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("gemini-2.0-flash", "publishers/google/models/gemini-2.0-flash"),
        ("anthropic/claude-3-5-haiku", "publishers/anthropic/models/claude-3-5-haiku"),
        ("publishers/meta/models/llama", "publishers/meta/models/llama"),
        (f"{BASE}/publishers/google/models/g", f"{BASE}/publishers/google/models/g"),
    ],
)
def test_short_forms_expand_as_google_genai_expands_them(written: str, sent: str) -> None:
    """batchspec's expansion is google-genai's own (`t_model` in Vertex mode)."""
    from google.genai import _transformers, client

    assert expand_publisher(written) == sent
    vertex = client.Client(vertexai=True, project="p", location="us-central1", credentials=_Creds())
    assert _transformers.t_model(vertex._api_client, written) == sent


def test_vertex_body_names_the_expanded_model() -> None:
    case = next(c for c in CASES if c.id == "publisher-short-partner")
    spec, _ = diagnose(case)
    assert spec is not None
    body = compile_spec(spec, env={}).body
    assert body["model"] == "publishers/anthropic/models/claude-3-5-haiku@20241022"


class _Creds:
    """Credentials google-genai accepts without a refresh (never used for a call)."""

    token = "t"
    expired = False
    valid = True
    quota_project_id = None

    def refresh(self, request: object) -> None:
        raise AssertionError("no network in this test")
