"""Retrying backend calls: exponential backoff with jitter, within a deadline.

Only `TemporaryBackendError` is retried (429, 500, 503, timeouts); anything
else propagates at once. After an `AmbiguousSubmitError` (the create may
have reached the service) the caller's `recover` hook runs before the next
attempt: for a submit it lists by the fingerprint label and returns the job
if the create did happen, so a timeout never turns into a second job.

Written by hand rather than with tenacity: the clock and the random source
are injected (tests run the whole schedule in microseconds and check it),
and the ambiguous-error recovery is part of the loop, not an afterthought.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from batchspec.errors import AmbiguousSubmitError, TemporaryBackendError
from batchspec.reconcile.clock import Clock, SystemClock

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff schedule: initial * multiplier**n, capped, jittered, within `deadline`."""

    initial: float = 0.5
    multiplier: float = 2.0
    maximum: float = 30.0
    deadline: float = 300.0
    jitter: float = 0.5  # each delay is drawn from [delay * (1 - jitter), delay]

    def delays(self, rng: random.Random) -> Iterator[float]:
        """The (infinite) sequence of waits between attempts."""
        delay = self.initial
        while True:
            capped = min(delay, self.maximum)
            yield rng.uniform(capped * (1 - self.jitter), capped)
            delay *= self.multiplier


NO_RETRY = RetryPolicy(deadline=0.0)


def call_with_retry(
    call: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy = RetryPolicy(),
    clock: Clock | None = None,
    rng: random.Random | None = None,
    recover: Callable[[], T | None] | None = None,
    on_retry: Callable[[TemporaryBackendError, float, int], None] | None = None,
) -> T:
    """Run `call`, retrying temporary errors until it succeeds or the deadline passes."""
    clock = clock or SystemClock()
    rng = rng or random.Random()
    started = clock.monotonic()
    delays = policy.delays(rng)
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
            delay = next(delays)
            elapsed = clock.monotonic() - started
            if elapsed + delay > policy.deadline:
                raise type(exc)(
                    f"{what}: gave up after {attempt} attempt(s) in {elapsed:.1f}s: {exc.message}",
                    hint=exc.hint
                    or "the service kept failing temporarily; run again later (nothing is"
                    " submitted twice: the next run looks the job up first)",
                ) from exc
            if on_retry is not None:
                on_retry(exc, delay, attempt)
            clock.sleep(delay)
