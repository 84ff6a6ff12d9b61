"""The one retry loop: backoff with jitter within a deadline, recovery after
ambiguous failures, and nested loops deferring to the outermost one."""

from __future__ import annotations

import random

import pytest

from batchspec.errors import AmbiguousSubmitError, PermanentBackendError, TemporaryBackendError
from batchspec.retry import NO_RETRY, RetryPolicy, call_with_retry, retrying
from batchspec.testing.clock import FakeClock


class Fixed:
    """A random source that always returns one value."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def flaky(*errors: Exception, result: str | None = "ok"):
    queue = list(errors)
    calls = []

    def call() -> str | None:
        calls.append(1)
        if queue:
            raise queue.pop(0)
        return result

    return call, calls


# --- the schedule -----------------------------------------------------------------------


def test_backoff_is_exponential_capped_and_full_jitter_by_default() -> None:
    clock = FakeClock()
    call, calls = flaky(*(TemporaryBackendError("503") for _ in range(5)))
    policy = RetryPolicy(initial=1.0, maximum=8.0, deadline=100)
    assert call_with_retry(call, policy=policy, clock=clock, rng=Fixed(1.0)) == "ok"
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0]  # random() at the top: the cap itself
    assert len(calls) == 6

    halves = FakeClock()
    call, _ = flaky(*(TemporaryBackendError("503") for _ in range(5)))
    call_with_retry(call, policy=policy, clock=halves, rng=Fixed(0.5))
    assert halves.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_partial_jitter_keeps_delays_within_their_band() -> None:
    clock = FakeClock()
    call, calls = flaky(*(TemporaryBackendError("429") for _ in range(4)))
    policy = RetryPolicy(initial=1, multiplier=2, maximum=5, deadline=100, jitter=0.5)
    assert call_with_retry(call, what="x", policy=policy, clock=clock, rng=random.Random(1)) == "ok"
    assert len(calls) == 5
    bounds = [(0.5, 1), (1, 2), (2, 4), (2.5, 5)]
    assert all(lo <= d <= hi for d, (lo, hi) in zip(clock.sleeps, bounds, strict=True))
    zero = RetryPolicy(initial=3, jitter=0.0)
    assert [zero.delay(0, random.Random(n)) for n in range(5)] == [3.0] * 5


def test_the_deadline_bounds_the_total_wait_and_the_last_sleep_is_cut() -> None:
    clock = FakeClock()
    call, calls = flaky(*(TemporaryBackendError("503 unavailable") for _ in range(100)))
    policy = RetryPolicy(initial=1.0, maximum=4.0, deadline=10.0)
    with pytest.raises(TemporaryBackendError, match=r"gave up after \d+ attempts") as info:
        call_with_retry(call, what="submitting a", policy=policy, clock=clock, rng=Fixed(1.0))
    assert clock.sleeps == [1.0, 2.0, 4.0, 3.0]  # 4 would pass the deadline: cut to 3
    assert sum(clock.sleeps) == pytest.approx(10.0)
    assert len(calls) == 5  # one final attempt at the deadline
    message = info.value.message
    assert message.startswith("submitting a: gave up after 5 attempts in 10.0s: ")
    assert "503 unavailable" in message
    assert "run again later" in (info.value.hint or "")


def test_giving_up_keeps_the_errors_kind_and_hint() -> None:
    call, _ = flaky(*(AmbiguousSubmitError("timed out", hint="look it up") for _ in range(9)))
    with pytest.raises(AmbiguousSubmitError) as info:
        call_with_retry(call, policy=RetryPolicy(max_attempts=2), clock=FakeClock())
    assert info.value.hint == "look it up"
    assert info.value.message.startswith("gave up after 2 attempts in ")
    assert isinstance(info.value.__cause__, AmbiguousSubmitError)


def test_max_attempts_caps_the_calls() -> None:
    call, calls = flaky(*(TemporaryBackendError("503") for _ in range(9)))
    clock = FakeClock()
    with pytest.raises(TemporaryBackendError, match="gave up after 3 attempts"):
        call_with_retry(call, policy=RetryPolicy(max_attempts=3), clock=clock)
    assert len(calls) == 3 and len(clock.sleeps) == 2


def test_permanent_errors_are_not_retried() -> None:
    call, calls = flaky(PermanentBackendError("400"))
    clock = FakeClock()
    with pytest.raises(PermanentBackendError):
        call_with_retry(call, what="x", clock=clock)
    assert len(calls) == 1 and clock.sleeps == []


def test_no_retry_makes_one_attempt_and_changes_nothing() -> None:
    original = TemporaryBackendError("429", hint="h")
    call, calls = flaky(original)
    with pytest.raises(TemporaryBackendError) as info:
        call_with_retry(call, policy=NO_RETRY, clock=FakeClock())
    assert info.value is original and len(calls) == 1


def test_a_clock_woken_to_stop_ends_the_retries() -> None:
    class Stopped(FakeClock):
        def sleep(self, seconds, stop=None) -> bool:
            super().sleep(seconds)
            return True

    call, calls = flaky(*(AmbiguousSubmitError("timed out") for _ in range(9)))
    with pytest.raises(AmbiguousSubmitError, match="x: stopped while retrying after 1 attempt"):
        call_with_retry(call, what="x", clock=Stopped(), recover=lambda: None)
    assert len(calls) == 1


def test_on_retry_sees_each_error_delay_and_attempt() -> None:
    seen = []
    call, _ = flaky(TemporaryBackendError("a"), TemporaryBackendError("b"))
    call_with_retry(
        call,
        policy=RetryPolicy(initial=2.0),
        clock=FakeClock(),
        rng=Fixed(1.0),
        on_retry=lambda exc, delay, n: seen.append((exc.message, delay, n)),
    )
    assert seen == [("a", 2.0, 1), ("b", 4.0, 2)]


@pytest.mark.parametrize(
    "bad",
    [
        {"initial": -1},
        {"multiplier": 0.5},
        {"maximum": -1},
        {"deadline": -1},
        {"max_attempts": 0},
        {"jitter": 1.5},
    ],
)
def test_nonsense_policies_are_refused(bad) -> None:
    with pytest.raises(ValueError, match="invalid RetryPolicy"):
        RetryPolicy(**bad)


def test_huge_retry_counts_stay_at_the_cap() -> None:
    assert RetryPolicy(maximum=30.0).cap(100_000) == 30.0


# --- ambiguous failures -----------------------------------------------------------------


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

    def recover() -> str | None:
        seen.append(len(calls))
        return lookups()

    assert call_with_retry(call, what="x", clock=FakeClock(), recover=recover) == "ok"
    # first lookup failed (429): no second call before the lookup succeeded
    assert seen == [1, 1] and len(calls) == 2


def test_temporary_but_unambiguous_failures_skip_the_lookup() -> None:
    call, calls = flaky(TemporaryBackendError("429"))
    lookups = []
    call_with_retry(call, clock=FakeClock(), recover=lambda: lookups.append(1))
    assert lookups == [] and len(calls) == 2


# --- nesting ----------------------------------------------------------------------------


def test_a_nested_loop_makes_one_attempt_and_the_outer_loop_owns_the_schedule() -> None:
    """Retries never multiply: an inner loop inside an outer one is one attempt,
    and only the outer clock, policy and deadline are used."""
    inner_clock, outer_clock = FakeClock(), FakeClock()
    call, calls = flaky(*(TemporaryBackendError("503") for _ in range(100)))
    inner_policy = RetryPolicy(max_attempts=5, deadline=1000)

    def backend_call() -> str | None:
        assert retrying()
        return call_with_retry(call, policy=inner_policy, clock=inner_clock)

    outer = RetryPolicy(initial=1.0, maximum=4.0, deadline=10.0)
    with pytest.raises(TemporaryBackendError, match="gave up after 5 attempts"):
        call_with_retry(
            backend_call, what="submitting", policy=outer, clock=outer_clock, rng=Fixed(1.0)
        )
    assert len(calls) == 5  # not 5 x 5
    assert inner_clock.sleeps == []
    assert sum(outer_clock.sleeps) <= 10.0
    assert not retrying()


def test_a_nested_loop_passes_ambiguous_errors_to_the_outer_recover() -> None:
    call, calls = flaky(AmbiguousSubmitError("timeout"))
    inner_recover = []

    def backend_submit() -> str | None:
        return call_with_retry(call, clock=FakeClock(), recover=lambda: inner_recover.append(1))

    result = call_with_retry(backend_submit, clock=FakeClock(), recover=lambda: "adopted")
    assert result == "adopted" and len(calls) == 1 and inner_recover == []


def test_a_loop_after_a_finished_one_retries_again() -> None:
    call_with_retry(lambda: "done", clock=FakeClock())
    clock = FakeClock()
    call, calls = flaky(TemporaryBackendError("503"))
    call_with_retry(call, clock=clock)
    assert len(calls) == 2 and len(clock.sleeps) == 1
