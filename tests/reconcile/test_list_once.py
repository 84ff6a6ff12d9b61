"""`apply` lists each location once per run, then creates (no list per job),
against a service with no request id (the double in Vertex AI's manner).
A job that appears after the list is still adopted: after an ambiguous
create, and when the listing has grown old."""

from __future__ import annotations

import dataclasses

from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.plan import desired_from
from batchspec.reconcile.apply import ApplyContext, apply_desired
from batchspec.state import StateStore
from batchspec.testing.backend import ListingBackend
from batchspec.testing.clock import FakeClock
from batchspec.testing.specs import compiled

PAGE = 100


def listing_ctx(ctx: ApplyContext, backend: ListingBackend) -> ApplyContext:
    return dataclasses.replace(ctx, provider=lambda target: backend)


def test_apply_of_1000_new_jobs_lists_once_per_page(ctx: ApplyContext, clock: FakeClock) -> None:
    backend = ListingBackend(page_size=PAGE)
    jobs = [compiled(f"job_{i:04d}") for i in range(1000)]
    for job in jobs[:250]:  # already on the service: adopted, not created again
        backend.create_outside(job)
    # Calls are what is counted here: a state in memory spares 2,000 fsyncs.
    with StateStore.memory(now=clock.now) as store:
        in_memory = dataclasses.replace(listing_ctx(ctx, backend), store=store)
        result = apply_desired(in_memory, desired_from(jobs))
        assert result.ok and len(result.report.done) == 1000
        assert len({r.remote_name for r in store.current_jobs().values()}) == 1000
    # the one listing of the location: 250 jobs in pages of 100
    assert backend.calls == {"list": 3, "create": 750}
    assert backend.creates == 1000


def test_submit_without_the_listing_costs_a_list_per_job() -> None:
    """What `create` saves: the backend's own `submit` looks first, every time."""
    backend = ListingBackend(page_size=PAGE)
    for i in range(20):
        backend.submit(compiled(f"job_{i:02d}"))
    assert backend.calls == {"list": 20, "create": 20}


def test_a_job_created_behind_a_lost_answer_is_adopted(ctx: ApplyContext) -> None:
    backend = ListingBackend(page_size=PAGE)
    backend.inject("create", "timeout_created")  # created, but the answer never came
    result = apply_desired(listing_ctx(ctx, backend), desired_from([compiled("a")]))
    assert result.ok and backend.creates == 1
    # the run's listing, then the look-up after the ambiguous create
    assert backend.calls == {"list": 2, "create": 1}
    assert ctx.store.current_jobs()["a"].remote_name == backend.jobs()[0].remote_name


def test_a_refused_create_is_retried_without_a_list(ctx: ApplyContext) -> None:
    backend = ListingBackend(page_size=PAGE)
    backend.inject("create", "throttled", "unavailable")  # 429, 503: nothing was done
    result = apply_desired(listing_ctx(ctx, backend), desired_from([compiled("a")]))
    assert result.ok and backend.creates == 1
    assert backend.calls == {"list": 1, "create": 3}


class Colleague(ListingBackend):
    """Someone else creates `b` a minute into the run, after the listing."""

    def __init__(self, clock: FakeClock, later: CompiledJob) -> None:
        super().__init__(page_size=PAGE)
        self.clock = clock
        self.later = later

    def create(self, job: CompiledJob) -> RemoteJob:
        remote = super().create(job)
        if job.name == "a":
            self.clock.advance(61)
            self.create_outside(self.later)
        return remote


def test_an_old_listing_is_made_again_and_finds_the_newcomer(
    ctx: ApplyContext, clock: FakeClock
) -> None:
    b = compiled("b")
    backend = Colleague(clock, b)
    result = apply_desired(listing_ctx(ctx, backend), desired_from([compiled("a"), b]))
    assert result.ok
    assert backend.creates == 2  # a, and the colleague's b: adopted, not duplicated
    assert "adopted" in result.report.outcomes[1].message
    assert backend.calls == {"list": 2, "create": 1}
