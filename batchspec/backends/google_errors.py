"""What Google's client libraries raise, in batchspec's error tree.

google-api-core raises `GoogleAPICallError` subclasses, google-api-python-client
raises `HttpError`, google-genai raises `APIError`, and the transports
underneath raise `requests`, `httpx`, `httplib2` or socket errors. `classify`
turns each into one vocabulary: `TemporaryBackendError` (429, 408, 500, 502,
503, 504, timeouts, dropped connections), `AmbiguousSubmitError` (a create
whose outcome is unknown: 408, 500, 502, 504, timeouts and dropped
connections after the request left), `JobNotFoundError` (404 on a job read)
and `PermanentBackendError` (400, 401, 403, 404, 409, ...), each with the
service's own message and a hint that says what to check (the API to
enable, the IAM role, the region, credentials).

Retrying is not done here: `ServiceCaller` runs a backend's calls through
the one loop in `batchspec.retry` (whose docstring says how a backend's
retries and the controller's compose), classifying each exception first so
the loop sees only batchspec errors. The client libraries' own retries are
switched off by the backends (`retry=None`, `num_retries=0`, `attempts=1`),
so a call is retried in exactly one place and a create is never repeated
behind batchspec's back. Nothing here imports a Google library at module
import time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from batchspec.errors import (
    AmbiguousSubmitError,
    BackendError,
    JobNotFoundError,
    PermanentBackendError,
    TemporaryBackendError,
)
from batchspec.retry import (
    DEFAULT_POLICY,
    RandomSource,
    RetryClock,
    RetryPolicy,
    call_with_retry,
)
from batchspec.rpc import HTTP_STATUS

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# After a create reached the service these may mean "done, but the answer was
# lost": the job may exist. 429 and 503 are refusals before any work.
AMBIGUOUS_ON_CREATE = frozenset({408, 500, 502, 504})


# --- what a call is about (for messages and hints) ---------------------------------


@dataclass(frozen=True)
class CallContext:
    """What was being attempted, so an error can say what to check.

    `api` is the service's hostname as `gcloud services enable` wants it;
    `role` the IAM role that grants the call."""

    service: str
    action: str
    api: str
    role: str
    project: str | None = None
    region: str | None = None
    create: bool = False
    job_read: bool = False

    def where(self) -> str:
        parts = []
        if self.project:
            parts.append(f"project {self.project}")
        if self.region:
            parts.append(f"region {self.region}")
        return " in " + ", ".join(parts) if parts else ""


@dataclass(frozen=True)
class ServiceFailure:
    """An exception from any client library, reduced to what matters."""

    status: int | None  # HTTP status; None for transport failures
    reason: str | None  # canonical name: PERMISSION_DENIED, ...
    message: str
    transport: bool = False  # no HTTP answer at all (timeout, reset, refused)
    timeout: bool = False


def describe(exc: BaseException) -> ServiceFailure | None:
    """Reduce a client-library or transport exception to status + message.

    None for exceptions that are not about talking to a service (bugs must
    stay bugs, not become "temporary errors")."""
    for probe in (_api_core, _googleapiclient, _genai, _auth, _transport):
        found = probe(exc)
        if found is not None:
            return found
    return None


def _module(exc: BaseException) -> str:
    return type(exc).__module__ or ""


def _api_core(exc: BaseException) -> ServiceFailure | None:
    if not _module(exc).startswith("google.api_core"):
        return None
    name = type(exc).__name__
    message = str(getattr(exc, "message", None) or exc)
    if name == "RetryError":
        return ServiceFailure(None, "DEADLINE_EXCEEDED", message, transport=True, timeout=True)
    code = getattr(exc, "code", None)
    status = int(code) if isinstance(code, int) else None
    grpc = getattr(exc, "grpc_status_code", None)
    reason = getattr(grpc, "name", None) or (HTTP_STATUS.get(status) if status else None)
    return ServiceFailure(status, reason, message, timeout=status in (408, 504))


def _googleapiclient(exc: BaseException) -> ServiceFailure | None:
    if not _module(exc).startswith("googleapiclient"):
        return None
    resp = getattr(exc, "resp", None)
    status = getattr(resp, "status", None)
    if status is None:
        return ServiceFailure(None, None, str(exc), transport=True)
    status = int(status)
    reason, message = HTTP_STATUS.get(status), str(exc)
    content = getattr(exc, "content", b"")
    try:
        error = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
        error = error.get("error", {}) if isinstance(error, dict) else {}
        message = str(error.get("message") or message)
        reason = str(error.get("status") or reason or "") or None
    except (ValueError, AttributeError):
        pass
    return ServiceFailure(status, reason, message)


def _genai(exc: BaseException) -> ServiceFailure | None:
    if not _module(exc).startswith("google.genai"):
        return None
    code = getattr(exc, "code", None)
    if not isinstance(code, int):
        return None
    message = str(getattr(exc, "message", None) or exc)
    reason = getattr(exc, "status", None) or HTTP_STATUS.get(code)
    return ServiceFailure(code, str(reason) if reason else None, message)


def _auth(exc: BaseException) -> ServiceFailure | None:
    if not _module(exc).startswith("google.auth"):
        return None
    name = type(exc).__name__
    if name == "TransportError":
        return ServiceFailure(None, None, str(exc), transport=True)
    # DefaultCredentialsError, RefreshError: no usable credentials.
    return ServiceFailure(401, "UNAUTHENTICATED", str(exc))


_TIMEOUT_NAMES = frozenset(
    {"Timeout", "ReadTimeout", "ConnectTimeout", "TimeoutException", "WriteTimeout", "PoolTimeout"}
)
_TRANSPORT_MODULES = ("requests", "urllib3", "httpx", "httpcore", "httplib2", "http.client", "ssl")


def _transport(exc: BaseException) -> ServiceFailure | None:
    mod = _module(exc)
    names = {cls.__name__ for cls in type(exc).__mro__}
    timeout = isinstance(exc, TimeoutError) or bool(names & _TIMEOUT_NAMES)
    transport = isinstance(exc, ConnectionError | TimeoutError) or any(
        mod == m or mod.startswith(m + ".") for m in _TRANSPORT_MODULES
    )
    if not transport:
        return None
    kind = "timed out" if timeout else "connection failed"
    return ServiceFailure(None, None, f"{kind}: {exc}", transport=True, timeout=timeout)


# --- classification -------------------------------------------------------------------


def classify(exc: BaseException, ctx: CallContext) -> BackendError:
    """The batchspec error for `exc`, raised while doing `ctx`.

    Exceptions that are already batchspec errors pass through; exceptions that
    are not about talking to a service are wrapped as permanent (they are
    bugs or bad input, and retrying cannot help)."""
    if isinstance(exc, BackendError):
        return exc
    failure = describe(exc)
    if failure is None:
        return PermanentBackendError(
            f"{ctx.service}: {ctx.action} failed: {type(exc).__name__}: {exc}",
            hint="this looks like a bug in batchspec or the client library; please report it",
        )
    return from_failure(failure, ctx)


def from_failure(failure: ServiceFailure, ctx: CallContext) -> BackendError:
    """The batchspec error for a reduced failure."""
    status, reason = failure.status, failure.reason
    label = " ".join(str(p) for p in (status, reason) if p) or "no answer"
    text = f"{ctx.service}: {ctx.action}{ctx.where()} failed ({label}): {failure.message}"
    if failure.transport or status in RETRYABLE_STATUS:
        ambiguous = ctx.create and (failure.transport or status in AMBIGUOUS_ON_CREATE)
        if ambiguous:
            return AmbiguousSubmitError(
                text,
                hint="the job may have been created; batchspec lists jobs by fingerprint"
                " before trying again",
            )
        return TemporaryBackendError(text, hint=_temporary_hint(status))
    if status == 404 and ctx.job_read:
        return JobNotFoundError(text, hint="the job may have been deleted, or lives elsewhere")
    return PermanentBackendError(text, hint=_permanent_hint(status, ctx))


def _temporary_hint(status: int | None) -> str:
    if status == 429:
        return "quota or rate limit reached: wait, or ask for more quota in the console"
    return "the service or the network is having trouble; try again later"


def _permanent_hint(status: int | None, ctx: CallContext) -> str:
    project = ctx.project or "<project>"
    enable = f"gcloud services enable {ctx.api} --project {project}"
    if status == 401:
        return (
            "no usable credentials: run `gcloud auth application-default login`, or set"
            " GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
        )
    if status == 403:
        return (
            f"check that the API is enabled ({enable}), that the caller has {ctx.role}"
            f" on {project}, that the job's service account (if any) grants the caller"
            " roles/iam.serviceAccountUser, and that the buckets/tables are readable and"
            " writable by the service agent"
        )
    if status == 404:
        region = f" and region {ctx.region}" if ctx.region else ""
        return (
            f"check the project ({project}){region}, and that the model exists there;"
            f" the API must be enabled ({enable})"
        )
    if status == 409:
        return "a resource by that name already exists"
    region = f"region {ctx.region}" if ctx.region else "the region"
    return (
        f"the service refused the request: check the values it names, that {region}"
        " offers this kind of job and model, and run `batchspec render --check`"
    )


# --- calling through the one retry loop --------------------------------------------


def translating(fn: Callable[[], T], ctx: CallContext) -> Callable[[], T]:
    """`fn`, raising batchspec errors: any other exception is classified for
    `ctx` and raised with the original chained (`__cause__`)."""

    def call() -> T:
        try:
            return fn()
        except BackendError:
            raise
        except Exception as exc:  # translated and re-raised
            raise classify(exc, ctx) from exc

    return call


@dataclass(frozen=True)
class ServiceCaller:
    """How a cloud backend calls its service: `batchspec.retry.call_with_retry`
    with the backend's policy, clock and random source.

    `run` retries one operation whose steps raise batchspec errors (each
    step wrapped in `translating`, or a backend method that is itself run
    through this); `call` is `run` of one translated call."""

    policy: RetryPolicy = DEFAULT_POLICY
    clock: RetryClock | None = None
    rng: RandomSource | None = None

    def run(self, operation: Callable[[], T]) -> T:
        """`operation()` under the retry loop (one attempt inside another loop)."""
        return call_with_retry(operation, policy=self.policy, clock=self.clock, rng=self.rng)

    def call(self, fn: Callable[[], T], ctx: CallContext) -> T:
        """One service call, classified for `ctx` and retried."""
        return self.run(translating(fn, ctx))


def with_context(ctx: CallContext, **changes: Any) -> CallContext:
    """A copy of `ctx` with some fields changed (action, create, job_read...)."""
    values = {**ctx.__dict__, **changes}
    return CallContext(**values)


__all__ = [
    "AMBIGUOUS_ON_CREATE",
    "RETRYABLE_STATUS",
    "CallContext",
    "ServiceCaller",
    "ServiceFailure",
    "classify",
    "describe",
    "from_failure",
    "translating",
    "with_context",
]
