"""`apply` (the controller's executor) submitting through the real Vertex
backend to the REST double under faults: one retry loop (the executor's)
owns the retries, and every fault ends with exactly one job."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from batchspec.backends.vertex import VertexBackend
from batchspec.compile import compile_spec
from batchspec.plan import desired_from
from batchspec.reconcile.apply import ApplyContext, apply_desired
from batchspec.retry import RetryPolicy
from batchspec.state import StateStore
from batchspec.testing.clock import FakeClock
from tests.cloud.conftest import PROJECT, REGION, anonymous

# Generous enough that a double slowed by a loaded machine never times out by
# accident (an unplanned timeout is an extra, legitimate retry the asserts
# below do not expect); the "timeout" fault answers well after it.
REQUEST_TIMEOUT = 2.0

FAULTS = {
    "429": lambda faults: faults.status("create", 429, times=2),
    "503": lambda faults: faults.status("create", 503, times=2),
    "500": lambda faults: faults.status("create", 500),
    "timeout": lambda faults: faults.timeout("create", delay=REQUEST_TIMEOUT * 2.5),
    "dropped": lambda faults: faults.drop("create"),
    "list-503": lambda faults: faults.status("list", 503, times=2),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_apply_submits_exactly_once_with_one_retry_loop(
    tmp_path: Path, double, make_spec, sleeps, fault: str
) -> None:
    clock = FakeClock()
    logs: list[str] = []
    backend = VertexBackend(
        PROJECT,
        REGION,
        credentials=anonymous(),
        api_endpoint=double.url,
        clock=sleeps,  # the backend's own loop: must never sleep here
        timeout=REQUEST_TIMEOUT,
        page_size=2,
    )
    store = StateStore.open(tmp_path / "state.db", now=clock.now)
    ctx = ApplyContext(
        store=store,
        provider=lambda target: backend,
        actor="test",
        clock=clock,
        rng=random.Random(3),
        retry=RetryPolicy(initial=1.0, maximum=8.0, deadline=120.0),
        log=logs.append,
    )
    FAULTS[fault](double.faults)
    try:
        result = apply_desired(ctx, desired_from([compile_spec(make_spec())]))
        assert result.ok, [o.message for o in result.report.failed]
        record = store.current_jobs()["scores"]
    finally:
        store.close()
    assert list(double.jobs) == [record.remote_name]
    answered = [c for c in double.create_calls() if c.status in (200, -1)]
    assert len(answered) == 1
    assert sleeps == []
    assert len(clock.sleeps) >= 1  # on the executor's clock
    if fault.startswith("list"):
        assert logs == []  # observing retried the list before any submit
    else:  # each retry of the submit is logged under the job's name
        assert len(logs) == len(clock.sleeps)
        assert all(line.startswith("scores: ") and "retrying in" in line for line in logs)
