"""Fixtures for the cloud backend tests: the REST double (one per test) and
backends wired to it with anonymous credentials and a retry policy that does
not really sleep. fake-gcs-server and bqemulator come from tests/emulators.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchspec.retry import RetryPolicy
from batchspec.testing.cloud import CloudDouble

PROJECT = "proj-123456"
REGION = "us-central1"


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


# Where the cloud tests' bases differ from the shared ones: buckets the
# emulators hold, and models the REST double knows.
VARIANTS: dict[str, dict[str, Any]] = {
    "vertex": {
        "input": {"paths": ["gs://in-bucket/in/*"]},
        "output": {"path": "gs://out-bucket/out/"},
    },
    "mlengine": {
        "model": {"version": "v2"},
        "input": {"format": "JSONL", "paths": ["gs://in-bucket/in/*"]},
        "output": {"path": "gs://out-bucket/out/"},
    },
    "genai": {
        "model": {"publisher": "gemini-2.0-flash-001"},
        "input": {"paths": ["gs://in-bucket/in/*"]},
        "output": {"path": "gs://out-bucket/out/"},
    },
}


@pytest.fixture
def make_spec() -> Callable[..., Any]:
    """Build a typed spec from keyword overrides (the shared builder; with
    `merge=False` a mapping replaces the base's instead of updating it)."""
    from batchspec.model.spec import BatchPredictionJobSpec
    from batchspec.testing.specs import spec_doc, typed_spec

    def make(
        name: str = "scores",
        target: str = "vertex",
        labels: dict[str, str] | None = None,
        merge: bool = True,
        **spec: Any,
    ) -> BatchPredictionJobSpec:
        doc = spec_doc(name, target, VARIANTS[target], labels=labels or None, merge=merge, **spec)
        return typed_spec(doc, rules=False)

    return make
