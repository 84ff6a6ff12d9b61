"""Bounded, interruptible calls to remote storage, and one-line errors for them.

A storage call that cannot reach its endpoint must fail in seconds, not hang
a controller pass for minutes, and a SIGTERM must not wait for it. Three
layers see to that:

* every request gcsfs makes has a connect and a read timeout and a bounded
  number of attempts (`Limits`, from the environment, see below; gcsfs's own
  default is no timeout at all and six attempts);
* `run` executes the call in a helper thread and waits for it in short
  steps, so a registered stop event (`stop_on`; `batchspec reconcile`
  registers the one its SIGTERM handler sets) ends the wait at once, and a
  whole-call deadline ends it when the library's own bounds do not;
* an endpoint that just failed as unreachable fails the next calls at once
  for `COOLDOWN` seconds, so a pass over many jobs pays the timeout once.

Errors come back as `StorageUnreachableError` (or `StorageInterruptedError`) carrying
one line that names the bucket and what failed, never an aiohttp traceback.

Environment (documented in docs/controller.md):

    BATCHSPEC_STORAGE_TIMEOUT   seconds to connect, and to wait for each read (default 20)
    BATCHSPEC_STORAGE_RETRIES   attempts per request, the first included (default 3)
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from batchspec.errors import BatchspecError

TIMEOUT_ENV = "BATCHSPEC_STORAGE_TIMEOUT"
RETRIES_ENV = "BATCHSPEC_STORAGE_RETRIES"
DEFAULT_TIMEOUT = 20.0
DEFAULT_ATTEMPTS = 3
COOLDOWN = 30.0
DEADLINE_SLACK = 10.0
_POLL = 0.1
_QUIET_LOGGERS = ("gcsfs", "fsspec", "aiohttp", "google.auth")

T = TypeVar("T")


class StorageError(BatchspecError):
    """A location that cannot be used: no filesystem for its scheme, nothing
    there, or it cannot be listed or read."""


class StorageUnreachableError(StorageError):
    """The storage service could not be reached or did not answer in time."""


class StorageInterruptedError(StorageError):
    """A stop was requested (SIGTERM) while waiting for storage."""


@dataclass(frozen=True)
class Limits:
    """How long one storage request may take, and how often it is tried."""

    timeout: float = DEFAULT_TIMEOUT
    attempts: int = DEFAULT_ATTEMPTS

    @property
    def backoff(self) -> float:
        """The most gcsfs sleeps between attempts (`min(1 + 2**(n-1), 32)` each)."""
        return float(sum(min(1 + 2 ** (n - 1), 32) for n in range(1, self.attempts)))

    @property
    def deadline(self) -> float:
        """The longest one call may take: each attempt connects and waits for
        a reply, plus the sleeps between attempts, plus slack, so that the
        library's own bounds fire first and this one is the backstop."""
        return self.attempts * 2 * self.timeout + self.backoff + DEADLINE_SLACK


def limits() -> Limits:
    """The limits the environment asks for (bad values are a clear error)."""
    return Limits(
        timeout=_number(TIMEOUT_ENV, DEFAULT_TIMEOUT, float, 0.1, 3600.0),
        attempts=int(_number(RETRIES_ENV, DEFAULT_ATTEMPTS, int, 1, 20)),
    )


def _number(name: str, default: float, kind: type, low: float, high: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(kind(text))
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise StorageError(
            f"${name} is {text!r}; expected a {kind.__name__} from {low:g} to {high:g}",
            hint=f"unset it for the default ({default:g})",
        )
    return value


# --- stopping --------------------------------------------------------------------------

_STOPS: list[threading.Event] = []


@contextlib.contextmanager
def stop_on(event: threading.Event) -> Iterator[threading.Event]:
    """While inside, setting `event` interrupts every storage wait in this process."""
    _STOPS.append(event)
    try:
        yield event
    finally:
        _STOPS.remove(event)


def stopping() -> bool:
    """True once a registered stop event is set."""
    return any(e.is_set() for e in _STOPS)


# --- unreachable endpoints -------------------------------------------------------------

_DOWN: dict[str, tuple[float, str]] = {}
_DOWN_LOCK = threading.Lock()


def _still_down(endpoint: str) -> str | None:
    with _DOWN_LOCK:
        found = _DOWN.get(endpoint)
        if found is None:
            return None
        when, reason = found
        age = time.monotonic() - when
        if age > COOLDOWN:
            del _DOWN[endpoint]
            return None
    return f"{reason} (failed {age:.0f} s ago; not retried for {COOLDOWN:.0f} s)"


def _mark_down(endpoint: str, reason: str) -> None:
    with _DOWN_LOCK:
        _DOWN[endpoint] = (time.monotonic(), reason)


def forget_failures() -> None:
    """Try every endpoint again at once (tests; a user who fixed the network)."""
    with _DOWN_LOCK:
        _DOWN.clear()


# --- the call --------------------------------------------------------------------------


def where(url: str) -> str:
    """`gs://bucket` for `gs://bucket/a/b`: what a user recognises in a message."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else url


def run(fn: Callable[[], T], *, url: str, what: str, endpoint: str) -> T:
    """`fn()` within the limits, interruptible by a stop event.

    `what` says what the call does ("list results/"), for the message."""
    if stopping():
        raise StorageInterruptedError(f"{where(url)}: stopped before trying to {what}")
    down = _still_down(endpoint)
    if down is not None:
        raise StorageUnreachableError(f"{where(url)}: cannot {what}: {down}", hint=_HINT)
    quiet_library_logs()
    bounds = limits()
    box: dict[str, Any] = {}
    done = threading.Event()

    def call() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=call, name="batchspec-storage", daemon=True).start()
    give_up = time.monotonic() + bounds.deadline
    while not done.wait(_POLL):
        if stopping():
            raise StorageInterruptedError(f"{where(url)}: stopped while waiting to {what}")
        if time.monotonic() > give_up:
            reason = f"{endpoint} did not answer within {bounds.deadline:.0f} s"
            _mark_down(endpoint, reason)
            raise StorageUnreachableError(f"{where(url)}: cannot {what}: {reason}", hint=_HINT)
    if "error" in box:
        raise translate(box["error"], url=url, what=what, endpoint=endpoint, bounds=bounds)
    value: T = box["value"]
    return value


_HINT = (
    f"check the network and the bucket; ${TIMEOUT_ENV} and ${RETRIES_ENV} bound each call"
    f" (default {DEFAULT_TIMEOUT:g} s, {DEFAULT_ATTEMPTS} attempts)"
)


def translate(
    exc: BaseException, *, url: str, what: str, endpoint: str, bounds: Limits
) -> BaseException:
    """The exception to raise for `exc`: missing files and our own errors stay
    as they are; everything else becomes one line naming the bucket."""
    if isinstance(exc, FileNotFoundError | StorageError | KeyboardInterrupt | SystemExit):
        return exc
    reason, unreachable = describe(exc, endpoint=endpoint, bounds=bounds)
    if unreachable:
        _mark_down(endpoint, reason)
        error: StorageError = StorageUnreachableError(f"{where(url)}: cannot {what}: {reason}")
        error.hint = _HINT
    else:
        error = StorageError(f"{where(url)}: cannot {what}: {reason}")
    error.__cause__ = exc
    return error


def describe(exc: BaseException, *, endpoint: str, bounds: Limits) -> tuple[str, bool]:
    """(one-line reason, whether the endpoint is unreachable) for a library error."""
    tries = f"{bounds.attempts} attempt(s)"
    for kind, text, unreachable in _CLASSIFIERS:
        if kind(exc):
            return text.format(endpoint=endpoint, timeout=bounds.timeout, tries=tries), unreachable
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(code, int):
        if code in (401, 403):
            return f"permission denied ({code}): {_first_line(message)}", False
        return f"Cloud Storage answered {code}: {_first_line(message)}", code >= 500
    if isinstance(exc, OSError):
        return _first_line(exc.strerror or message), True
    return f"{type(exc).__name__}: {_first_line(message)}", False


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else text


def _refused(exc: BaseException) -> bool:
    return _errno(exc) == errno.ECONNREFUSED


def _errno(exc: BaseException) -> int | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        inner = getattr(seen, "os_error", None)
        if isinstance(inner, OSError) and inner.errno is not None:
            return inner.errno
        seen = seen.__cause__ or seen.__context__
    return None


def _timed_out(exc: BaseException) -> bool:
    names = {t.__name__ for t in type(exc).__mro__}
    return bool(names & {"TimeoutError", "FSTimeoutError", "ServerTimeoutError"})


def _disconnected(exc: BaseException) -> bool:
    names = {t.__name__ for t in type(exc).__mro__}
    return bool(names & {"ServerDisconnectedError", "ClientConnectionError", "ClientPayloadError"})


def _no_credentials(exc: BaseException) -> bool:
    return type(exc).__name__ in {"DefaultCredentialsError", "RefreshError", "TransportError"}


_CLASSIFIERS: tuple[tuple[Callable[[BaseException], bool], str, bool], ...] = (
    (_refused, "connection refused by {endpoint} ({tries})", True),
    (_timed_out, "{endpoint} did not answer within {timeout:g} s ({tries})", True),
    (_disconnected, "{endpoint} closed the connection ({tries})", True),
    (
        _no_credentials,
        "no usable Google credentials (run `gcloud auth application-default login`"
        " or set GOOGLE_APPLICATION_CREDENTIALS)",
        False,
    ),
)


def quiet_library_logs() -> None:
    """gcsfs logs a full traceback (`logger.exception`) for every request that
    runs out of retries, and with no logging configured Python prints it:
    batchspec reports the failure itself in one line. BATCHSPEC_DEBUG keeps
    the library logs."""
    if os.environ.get("BATCHSPEC_DEBUG"):
        return
    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


__all__ = [
    "COOLDOWN",
    "RETRIES_ENV",
    "TIMEOUT_ENV",
    "Limits",
    "StorageError",
    "StorageInterruptedError",
    "StorageUnreachableError",
    "forget_failures",
    "limits",
    "quiet_library_logs",
    "run",
    "stop_on",
    "stopping",
    "translate",
    "where",
]
