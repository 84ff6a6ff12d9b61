"""Backoff with jitter within a deadline; recovery after ambiguous failures."""

from __future__ import annotations

import random

import pytest

from batchspec.errors import AmbiguousSubmitError, PermanentBackendError, TemporaryBackendError
from batchspec.reconcile.retry import RetryPolicy, call_with_retry
from tests.doubles.clock import FakeClock


def flaky(*errors: Exception, result: str = "ok"):
    queue = list(errors)
    calls = []

    def call() -> str:
        calls.append(1)
        if queue:
            raise queue.pop(0)
        return result

    return call, calls


def test_temporary_errors_are_retried_with_growing_jittered_delays() -> None:
    clock = FakeClock()
    call, calls = flaky(*(TemporaryBackendError("429") for _ in range(4)))
    policy = RetryPolicy(initial=1, multiplier=2, maximum=5, deadline=100, jitter=0.5)
    assert call_with_retry(call, what="x", policy=policy, clock=clock, rng=random.Random(1)) == "ok"
    assert len(calls) == 5
    bounds = [(0.5, 1), (1, 2), (2, 4), (2.5, 5)]
    assert all(lo <= d <= hi for d, (lo, hi) in zip(clock.sleeps, bounds, strict=True))


def test_gives_up_at_the_deadline_with_a_clear_message() -> None:
    clock = FakeClock()
    call, _calls = flaky(*(TemporaryBackendError("503 unavailable") for _ in range(100)))
    policy = RetryPolicy(initial=1, maximum=4, deadline=10, jitter=0)
    with pytest.raises(TemporaryBackendError, match=r"gave up after \d+ attempt") as info:
        call_with_retry(call, what="submitting a", policy=policy, clock=clock)
    assert "503 unavailable" in info.value.message and "submitting a" in info.value.message
    assert sum(clock.sleeps) <= 10


def test_permanent_errors_are_not_retried() -> None:
    call, calls = flaky(PermanentBackendError("400"))
    with pytest.raises(PermanentBackendError):
        call_with_retry(call, what="x", clock=FakeClock())
    assert len(calls) == 1


def test_ambiguous_failure_looks_up_before_calling_again() -> None:
    call, calls = flaky(AmbiguousSubmitError("timeout"))
    found = []

    def recover() -> str | None:
        found.append(1)
        return "adopted"

    result = call_with_retry(call, what="x", clock=FakeClock(), recover=recover)
    assert result == "adopted" and len(calls) == 1 and len(found) == 1


def test_ambiguous_failure_calls_again_only_after_a_successful_lookup() -> None:
    call, calls = flaky(AmbiguousSubmitError("timeout"))
    lookups = flaky(TemporaryBackendError("429"), result=None)[0]
    seen = []

    def recover() -> None:
        seen.append(len(calls))
        return lookups()

    assert call_with_retry(call, what="x", clock=FakeClock(), recover=recover) == "ok"
    # first lookup failed (429): no second call before the lookup succeeded
    assert seen == [1, 1] and len(calls) == 2
