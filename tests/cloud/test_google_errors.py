"""Error translation: every client library's exceptions land in batchspec's
tree with the service's message and a hint; `ServiceCaller` retries the
temporary ones through the one loop of `batchspec.retry`."""

from __future__ import annotations

import json

import pytest

from batchspec.backends.google_errors import CallContext, ServiceCaller, classify, describe
from batchspec.errors import (
    AmbiguousSubmitError,
    JobNotFoundError,
    PermanentBackendError,
    TemporaryBackendError,
)
from batchspec.retry import RetryPolicy
from tests.cloud.conftest import Sleeps
from tests.test_retry import Fixed

CTX = CallContext(
    "Vertex AI",
    "create batch prediction job 'scores'",
    "aiplatform.googleapis.com",
    "roles/aiplatform.user",
    "proj-1",
    "us-central1",
)
CREATE = CallContext(**{**CTX.__dict__, "create": True})
READ = CallContext(**{**CTX.__dict__, "job_read": True, "action": "get job"})


def api_core(status: int, message: str = "boom") -> Exception:
    from google.api_core import exceptions

    return exceptions.from_http_status(status, message)


def http_error(status: int, message: str = "boom", reason: str = "X") -> Exception:
    import httplib2
    from googleapiclient.errors import HttpError

    content = json.dumps({"error": {"code": status, "message": message, "status": reason}})
    return HttpError(httplib2.Response({"status": status}), content.encode())


def genai_error(status: int, message: str = "boom") -> Exception:
    from google.genai import errors

    payload = {"error": {"code": status, "message": message, "status": "X"}}
    cls = errors.ClientError if status < 500 else errors.ServerError
    return cls(status, payload)


@pytest.mark.parametrize("make", [api_core, http_error, genai_error])
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_are_temporary(make, status) -> None:
    error = classify(make(status), CTX)
    assert isinstance(error, TemporaryBackendError)
    assert not isinstance(error, AmbiguousSubmitError)
    assert "boom" in error.message


@pytest.mark.parametrize("make", [api_core, http_error, genai_error])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_refusals_are_permanent(make, status) -> None:
    error = classify(make(status, "Permission 'aiplatform.batchPredictionJobs.create' denied"), CTX)
    assert isinstance(error, PermanentBackendError)
    assert "aiplatform.batchPredictionJobs.create" in error.message  # the service's words
    assert error.hint


def test_403_hint_says_api_role_and_project() -> None:
    error = classify(http_error(403, "denied", "PERMISSION_DENIED"), CTX)
    assert "PERMISSION_DENIED" in error.message
    assert "gcloud services enable aiplatform.googleapis.com --project proj-1" in (error.hint or "")
    assert "roles/aiplatform.user" in (error.hint or "")
    assert "serviceAccountUser" in (error.hint or "")


def test_400_hint_names_the_region() -> None:
    error = classify(api_core(400, "Unsupported region"), CTX)
    assert "us-central1" in (error.hint or "")
    assert "Unsupported region" in error.message


def test_401_hint_is_about_credentials() -> None:
    error = classify(api_core(401), CTX)
    assert "application-default login" in (error.hint or "")


def test_missing_credentials_are_permanent() -> None:
    from google.auth.exceptions import DefaultCredentialsError

    error = classify(DefaultCredentialsError("no ADC"), CTX)
    assert isinstance(error, PermanentBackendError)
    assert "application-default" in (error.hint or "")


def test_404_on_a_job_read_is_not_found() -> None:
    assert isinstance(classify(api_core(404), READ), JobNotFoundError)
    assert not isinstance(classify(api_core(404), CTX), JobNotFoundError)


@pytest.mark.parametrize(
    "exc",
    [
        TimeoutError("timed out"),
        TimeoutError("timed out"),
        ConnectionResetError("reset"),
        pytest.param("requests", id="requests-timeout"),
        pytest.param("httpx", id="httpx-timeout"),
    ],
)
def test_timeouts_on_create_are_ambiguous(exc) -> None:
    if exc == "requests":
        import requests

        exc = requests.exceptions.ReadTimeout("read timed out")
    elif exc == "httpx":
        import httpx

        exc = httpx.ReadTimeout("read timed out")
    assert isinstance(classify(exc, CREATE), AmbiguousSubmitError)
    error = classify(exc, CTX)
    assert isinstance(error, TemporaryBackendError)
    assert not isinstance(error, AmbiguousSubmitError)


def test_500_on_create_is_ambiguous_but_429_and_503_are_not() -> None:
    assert isinstance(classify(api_core(500), CREATE), AmbiguousSubmitError)
    assert not isinstance(classify(api_core(429), CREATE), AmbiguousSubmitError)
    assert not isinstance(classify(api_core(503), CREATE), AmbiguousSubmitError)


def test_bugs_stay_permanent_and_are_not_retried() -> None:
    assert describe(KeyError("x")) is None
    error = classify(KeyError("x"), CTX)
    assert isinstance(error, PermanentBackendError)
    assert "bug" in (error.hint or "")


def caller(clock: Sleeps, **kw) -> ServiceCaller:
    return ServiceCaller(RetryPolicy(**kw), clock=clock, rng=Fixed(1.0))


def test_service_errors_are_classified_then_retried_with_backoff() -> None:
    clock = Sleeps()
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise api_core(503)
        return "ok"

    assert caller(clock, initial=1.0, maximum=8.0).call(flaky, CTX) == "ok"
    assert clock == [1.0, 2.0, 4.0]


def test_the_deadline_bounds_the_total_wait_and_keeps_the_hint() -> None:
    clock = Sleeps()

    def always() -> None:
        raise api_core(429, "Quota exceeded")

    with pytest.raises(TemporaryBackendError) as info:
        caller(clock, initial=1.0, maximum=4.0, deadline=10.0).call(always, CTX)
    assert sum(clock) == pytest.approx(10.0)
    assert "gave up after" in info.value.message
    assert "Quota exceeded" in info.value.message
    assert "quota" in (info.value.hint or "")


def test_permanent_errors_fail_at_once() -> None:
    clock = Sleeps()
    calls = []

    def refused() -> None:
        calls.append(1)
        raise http_error(403, "denied")

    with pytest.raises(PermanentBackendError):
        caller(clock).call(refused, CTX)
    assert calls == [1]
    assert clock == []


def test_bugs_are_not_retried() -> None:
    clock = Sleeps()
    with pytest.raises(PermanentBackendError, match="KeyError"):
        caller(clock).call(lambda: {}["x"], CTX)
    assert clock == []


def test_max_attempts() -> None:
    calls = []

    def always() -> None:
        calls.append(1)
        raise api_core(503)

    with pytest.raises(TemporaryBackendError):
        caller(Sleeps(), max_attempts=3).call(always, CTX)
    assert len(calls) == 3


def test_original_exception_is_chained() -> None:
    original = api_core(400, "bad")

    def bad() -> None:
        raise original

    with pytest.raises(PermanentBackendError) as info:
        caller(Sleeps()).call(bad, CTX)
    assert info.value.__cause__ is original


def test_a_lost_create_stays_ambiguous_when_retries_give_up() -> None:
    def lost() -> None:
        raise TimeoutError("timed out")

    with pytest.raises(AmbiguousSubmitError, match="gave up after 2 attempts") as info:
        caller(Sleeps(), max_attempts=2).call(lost, CREATE)
    assert "batchspec lists jobs by fingerprint" in (info.value.hint or "")
