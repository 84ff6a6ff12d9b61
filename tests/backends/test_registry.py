"""The registry builds every cloud backend with no arguments, from the
environment alone, as `batchspec apply` and `reconcile` do: location and
endpoint overrides come from env variables, and nothing touches the network
(clients are made on first use)."""

from __future__ import annotations

import pytest

from batchspec.backends.cloud import Location
from batchspec.backends.registry import BackendRegistry
from batchspec.errors import PermanentBackendError

ENV = {
    "BATCHSPEC_PROJECT": "acme-ml-prod",
    "BATCHSPEC_REGION": "europe-west4",
    "BATCHSPEC_VERTEX_ENDPOINT": "europe-west4-aiplatform.private.example:443",
    "BATCHSPEC_GENAI_BASE_URL": "https://genai-proxy.example/",
    "BATCHSPEC_MLENGINE_ENDPOINT": "https://ml.private.example",
}
VARIABLES = [*ENV, "GOOGLE_CLOUD_PROJECT"] + [
    f"BATCHSPEC_BACKEND_{t}" for t in ("VERTEX", "GENAI", "MLENGINE")
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_each_cloud_backend_is_built_from_the_environment(clean_env) -> None:
    for name, value in ENV.items():
        clean_env.setenv(name, value)
    registry = BackendRegistry()
    vertex, genai, mlengine = (registry.get(t) for t in ("vertex", "genai", "mlengine"))

    assert type(vertex).__name__ == "VertexBackend" and vertex.name == "vertex"
    assert type(genai).__name__ == "GenaiBackend" and genai.name == "genai"
    assert type(mlengine).__name__ == "MLEngineBackend" and mlengine.name == "mlengine"
    where = Location("acme-ml-prod", "europe-west4")
    for backend in (vertex, genai, mlengine):
        assert backend.location == where
    assert vertex.endpoint == ENV["BATCHSPEC_VERTEX_ENDPOINT"]
    assert genai.endpoint == ENV["BATCHSPEC_GENAI_BASE_URL"]
    assert mlengine.endpoint == ENV["BATCHSPEC_MLENGINE_ENDPOINT"]
    # No client was made: constructing a backend costs no call and no credentials.
    assert vertex._clients == {} and genai._clients == {} and mlengine._clients == {}
    assert registry.get("vertex") is vertex


def test_without_overrides_the_public_endpoints_are_used(clean_env) -> None:
    clean_env.setenv("GOOGLE_CLOUD_PROJECT", "from-gcloud")
    registry = BackendRegistry()
    vertex = registry.get("vertex")
    assert vertex.location == Location("from-gcloud", None)
    assert vertex.endpoint is None
    assert registry.get("genai").endpoint is None
    assert registry.get("mlengine").endpoint is None


def test_blank_settings_count_as_unset(clean_env) -> None:
    clean_env.setenv("BATCHSPEC_VERTEX_ENDPOINT", "  ")
    clean_env.setenv("BATCHSPEC_PROJECT", "")
    vertex = BackendRegistry().get("vertex")
    assert vertex.endpoint is None
    assert vertex.location == Location(None, None)


@pytest.mark.parametrize("target", ["vertex", "genai", "mlengine"])
def test_listing_with_nothing_configured_says_what_to_set(clean_env, target) -> None:
    backend = BackendRegistry().get(target)
    with pytest.raises(PermanentBackendError, match="no project") as info:
        backend.list({"managed-by": "batchspec"})
    assert "BATCHSPEC_PROJECT" in (info.value.hint or "")
