"""The one retry mechanism: exponential backoff with jitter, within a deadline.

Every layer that retries uses `call_with_retry` with a `RetryPolicy`: the
cloud backends for their service calls, the controller and `apply` for
submitting, cancelling, looking up and observing.

What is retried: `TemporaryBackendError` (429, 500, 503, timeouts, dropped
connections; the cloud backends classify Google's exceptions into it in
`batchspec.backends.google_errors`). Everything else propagates at once.
After an `AmbiguousSubmitError` (a create that may have happened) the
caller's `recover` hook runs before the call is made again, and again after
every failure of `recover` itself: a create is never repeated before it is
known whether the last one took effect.

**How layers compose: the outermost loop owns the retries.** A loop started
while another one is running on the same thread (or asyncio task) does not
retry: it makes one attempt and lets any error through, and the enclosing
loop decides, on its own schedule, clock, log and deadline. So when the
controller submits through a Vertex backend, the controller's policy
governs the whole submit (the backend's list-then-create is one attempt of
it), and when `batchspec get` calls the backend directly, the backend's
policy does. Retries never multiply (an inner loop of 5 attempts inside an
outer loop of 5 would make 25 calls and wait past both deadlines), and the
total time of one operation is bounded by one deadline: the outermost
loop's (plus the duration of the last attempt, which no loop can cut
short). Backends wrap the smallest idempotent unit in a loop: one public
method (`submit` = list, then create; `cancel` = read, cancel, read again),
or one page of a list, so re-running an attempt is always safe. (Ownership
is a context variable: work handed to another thread starts outside any
loop and retries on its own.)

Schedule: before retry n (from 0) the loop sleeps a delay drawn from
[cap * (1 - jitter), cap] with cap = min(maximum, initial * multiplier**n);
`jitter=1` is "full jitter" (AWS architecture blog, "Exponential Backoff
And Jitter"), `jitter=0` no jitter. The last sleep is cut to the time left,
so one final attempt happens at the deadline. `max_attempts` caps the count
as well. Giving up raises an error of the same kind that says how many
attempts were made over how long, keeping the last error's message and hint.
A clock whose `sleep` returns True (woken by a stop request, as the
controller's clock is on SIGTERM) ends the retries the same way.

Written by hand rather than with tenacity: the clock and the random source
are injected (tests run whole schedules in microseconds and check them),
the ambiguous-error recovery is part of the loop, and so is the rule that
nested loops defer to the outermost one. Only the standard library and
`batchspec.errors` are imported.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, TypeVar

from batchspec.errors import AmbiguousSubmitError, TemporaryBackendError

T = TypeVar("T")

GIVE_UP_HINT = (
    "the service kept failing temporarily; run again later (nothing is submitted"
    " twice: the next run looks the job up first)"
)


class RetryClock(Protocol):
    """What a retry loop needs of time. `batchspec.reconcile.clock.Clock` is one."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> bool | None:
        """Wait `seconds`; True when woken early to stop (SIGTERM): the loop
        then gives up at once instead of trying again."""
        ...


class RandomSource(Protocol):
    """Where jitter comes from: `random.Random` is one."""

    def random(self) -> float:
        """A float in [0, 1)."""
        ...


class MonotonicClock:
    """time.monotonic and time.sleep."""

    def monotonic(self) -> float:
        """time.monotonic()."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """time.sleep(), never negative."""
        time.sleep(max(0.0, seconds))


SYSTEM_CLOCK = MonotonicClock()
_SYSTEM_RANDOM = random.Random()


@dataclass(frozen=True)
class RetryPolicy:
    """A backoff schedule: pure data, shared by every layer.

    `deadline` bounds the whole operation in seconds from its first attempt;
    `max_attempts` (None: no limit) bounds the number of calls; `jitter` in
    [0, 1] is the fraction of each delay that is random (1: full jitter)."""

    initial: float = 1.0
    multiplier: float = 2.0
    maximum: float = 30.0
    deadline: float = 120.0
    max_attempts: int | None = None
    jitter: float = 1.0

    def __post_init__(self) -> None:
        problems = [
            name
            for name, bad in (
                ("initial >= 0", self.initial < 0),
                ("multiplier >= 1", self.multiplier < 1),
                ("maximum >= 0", self.maximum < 0),
                ("deadline >= 0", self.deadline < 0),
                ("max_attempts >= 1", self.max_attempts is not None and self.max_attempts < 1),
                ("0 <= jitter <= 1", not 0 <= self.jitter <= 1),
            )
            if bad
        ]
        if problems:
            raise ValueError(f"invalid RetryPolicy {self}: needs " + ", ".join(problems))

    @property
    def retries(self) -> bool:
        """False when the policy allows a single attempt only."""
        return self.deadline > 0 and (self.max_attempts is None or self.max_attempts > 1)

    def cap(self, retry: int) -> float:
        """The largest delay before retry `retry` (from 0)."""
        try:
            grown = self.initial * self.multiplier**retry
        except OverflowError:
            return self.maximum
        return min(self.maximum, grown)

    def delay(self, retry: int, rng: RandomSource) -> float:
        """The jittered delay before retry `retry` (from 0)."""
        cap = self.cap(retry)
        return cap * (1 - self.jitter) + cap * self.jitter * rng.random()

    def delays(self, rng: RandomSource) -> Iterator[float]:
        """The (infinite) sequence of delays, for display and tests."""
        retry = 0
        while True:
            yield self.delay(retry, rng)
            retry += 1


NO_RETRY = RetryPolicy(deadline=0.0, max_attempts=1)
"""One attempt; errors pass through unchanged. Outermost, it switches retries off."""

DEFAULT_POLICY = RetryPolicy()

# True while a retry loop runs in this context: nested loops make one attempt.
_OWNER: ContextVar[bool] = ContextVar("batchspec_retry_owner", default=False)

OnRetry = Callable[[TemporaryBackendError, float, int], None]
"""Called before each sleep with the error, the delay and the attempt that failed."""


def retrying() -> bool:
    """True when an enclosing `call_with_retry` owns retries here."""
    return _OWNER.get()


def call_with_retry(
    call: Callable[[], T],
    *,
    what: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: RetryClock | None = None,
    rng: RandomSource | None = None,
    recover: Callable[[], T | None] | None = None,
    on_retry: OnRetry | None = None,
) -> T:
    """`call()`, retried on temporary errors per `policy` (see the module docstring).

    `what` names the operation in the gave-up message ("submitting scores");
    leave it out when the errors already say. `recover` runs after an
    ambiguous failure and before the next call: a non-None result is
    returned instead of calling again. Inside another `call_with_retry`
    this makes a single attempt and lets errors through."""
    if _OWNER.get():
        return call()
    token = _OWNER.set(True)
    try:
        return _loop(
            call,
            what=what,
            policy=policy,
            clock=SYSTEM_CLOCK if clock is None else clock,
            rng=_SYSTEM_RANDOM if rng is None else rng,
            recover=recover,
            on_retry=on_retry,
        )
    finally:
        _OWNER.reset(token)


def _loop(
    call: Callable[[], T],
    *,
    what: str | None,
    policy: RetryPolicy,
    clock: RetryClock,
    rng: RandomSource,
    recover: Callable[[], T | None] | None,
    on_retry: OnRetry | None,
) -> T:
    started = clock.monotonic()
    attempt = 0
    must_recover = False
    while True:
        attempt += 1
        try:
            if must_recover and recover is not None:
                # Never call again before knowing whether the ambiguous call happened.
                found = recover()
                if found is not None:
                    return found
                must_recover = False
            return call()
        except TemporaryBackendError as exc:
            must_recover = must_recover or isinstance(exc, AmbiguousSubmitError)
            if not policy.retries:
                raise
            elapsed = clock.monotonic() - started
            left = policy.deadline - elapsed
            out_of_attempts = policy.max_attempts is not None and attempt >= policy.max_attempts
            if left <= 0 or out_of_attempts:
                raise gave_up(exc, what, attempt, elapsed) from exc
            delay = min(policy.delay(attempt - 1, rng), left)
            if on_retry is not None:
                on_retry(exc, delay, attempt)
            if clock.sleep(delay):
                raise gave_up(exc, what, attempt, elapsed, stopped=True) from exc


def gave_up(
    exc: TemporaryBackendError,
    what: str | None,
    attempts: int,
    elapsed: float,
    *,
    stopped: bool = False,
) -> TemporaryBackendError:
    """The error to raise when retries are spent (or a stop cut them short):
    same kind (an ambiguous submit stays ambiguous), same hint, and how long
    it was tried."""
    plural = "" if attempts == 1 else "s"
    prefix = f"{what}: " if what else ""
    why = "stopped while retrying" if stopped else "gave up"
    message = f"{prefix}{why} after {attempts} attempt{plural} in {elapsed:.1f}s: {exc.message}"
    hint = exc.hint or GIVE_UP_HINT
    try:
        return type(exc)(message, hint=hint)
    except TypeError:  # a subclass with its own constructor
        kind = AmbiguousSubmitError if isinstance(exc, AmbiguousSubmitError) else None
        return (kind or TemporaryBackendError)(message, hint=hint)


__all__ = [
    "DEFAULT_POLICY",
    "GIVE_UP_HINT",
    "NO_RETRY",
    "SYSTEM_CLOCK",
    "MonotonicClock",
    "OnRetry",
    "RandomSource",
    "RetryClock",
    "RetryPolicy",
    "call_with_retry",
    "gave_up",
    "retrying",
]
