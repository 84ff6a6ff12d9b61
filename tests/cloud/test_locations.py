"""Every location is observed: the controller lists each project and region
that a spec or a recorded job names (pages included), through the real
Vertex client against the REST double, and still makes one call per page."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from batchspec.backends.vertex import VertexBackend
from batchspec.compile import compile_spec
from batchspec.model.enums import JobState
from batchspec.model.jobs import CompiledJob
from batchspec.plan import desired_from
from batchspec.reconcile.controller import Controller, ControllerOptions
from batchspec.retry import RetryPolicy
from batchspec.state import StateStore
from batchspec.testing.clock import FakeClock
from tests.cloud.conftest import PROJECT, REGION, anonymous

ELSEWHERE = "europe-west4"
FAST = RetryPolicy(initial=0.5, maximum=2.0, deadline=20.0)


def lists_per_parent(double) -> Counter[str]:
    return Counter(
        c.path.removeprefix("/v1/").split("/batchPredictionJobs")[0]
        for c in double.calls
        if c.call == "list"
    )


def controller_for(
    store: StateStore, clock: FakeClock, double, jobs: list[CompiledJob]
) -> Controller:
    """A controller over `jobs` (read again each pass) with a Vertex backend
    configured for REGION only, talking to the double."""
    double.advance_on_read = False  # jobs move only when the test says
    backend = VertexBackend(
        PROJECT, REGION, credentials=anonymous(), api_endpoint=double.url, timeout=2.0, page_size=2
    )
    return Controller(
        store,
        lambda target: backend,
        lambda: desired_from(jobs),
        actor="test",
        clock=clock,
        rng=random.Random(5),
        options=ControllerOptions(submit_retry=FAST, observe_retry=FAST),
    )


def test_a_spec_in_a_second_region_is_observed(tmp_path: Path, double, make_spec) -> None:
    model_there = {"resource": f"projects/{PROJECT}/locations/{ELSEWHERE}/models/9"}
    jobs = [compile_spec(make_spec("here"))] + [
        compile_spec(make_spec(f"there_{i}", region=ELSEWHERE, model=model_there)) for i in range(3)
    ]
    clock = FakeClock()
    store = StateStore.open(tmp_path / "state.db", now=clock.now)
    controller = controller_for(store, clock, double, jobs)
    try:
        first = controller.run_pass()
        assert len(first.report.done) == 4 and not first.report.failed
        there = f"projects/{PROJECT}/locations/{ELSEWHERE}"
        assert {j.name.rsplit("/", 2)[0] for j in double.jobs.values()} == {
            f"projects/{PROJECT}/locations/{REGION}",
            there,
        }
        for name in double.jobs:
            double.advance(name)  # PENDING -> RUNNING, seen only by listing
        double.calls.clear()

        second = controller.run_pass()

        # one paged list per location: 1 job here, 3 there in pages of 2
        assert lists_per_parent(double) == {f"projects/{PROJECT}/locations/{REGION}": 1, there: 2}
        assert [c.call for c in double.calls if c.call != "list"] == []  # no get per job
        assert second.sync.findings == []  # nothing looks deleted or relabelled
        states = {r.name: r.state for r in store.current_jobs().values()}
        assert states == dict.fromkeys(states, JobState.RUNNING)
        assert second.observation.failed == {}
    finally:
        store.close()


def test_a_recorded_job_outside_the_specs_location_is_still_listed(
    tmp_path: Path, double, make_spec
) -> None:
    """The spec moved to another region: its old job, still recorded and
    running, is listed where it lives (and cancelled by the replace)."""
    model_there = {"resource": f"projects/{PROJECT}/locations/{ELSEWHERE}/models/9"}
    old = compile_spec(make_spec("moving", region=ELSEWHERE, model=model_there))
    new = compile_spec(make_spec("moving"))
    clock = FakeClock()
    store = StateStore.open(tmp_path / "state.db", now=clock.now)
    desired = [old]
    controller = controller_for(store, clock, double, desired)
    try:
        controller.run_pass()
        (old_name,) = double.jobs
        desired[:] = [new]
        double.calls.clear()
        result = controller.run_pass()
        assert ELSEWHERE in " ".join(lists_per_parent(double))
        assert [o.action.kind.value for o in result.report.done] == ["replace"]
        assert double.jobs[old_name].state == "JOB_STATE_CANCELLING"
    finally:
        store.close()
