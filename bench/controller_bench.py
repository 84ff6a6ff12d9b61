"""Controller benchmarks, measured side by side in one run.

1. plan over N spec files (default 10,000) with N recorded jobs: wall time per
   phase (load + validate + compile, state snapshot, build, render), against a
   baseline planner that asks the state store once per spec (O(jobs) queries).
2. a reconcile pass over M running jobs (default 1,000) with a counting
   backend double: wall time and backend calls per pass, the ratio to one
   list call per page (the aim is 1.0), against a baseline pass that gets
   every job (O(jobs) calls).
3. `apply` of A new jobs (default 1,000) on a service without request ids
   (the counting backend in Vertex AI's manner): list calls per run, against
   a baseline that looks each job up before creating it (O(jobs) lists).

Wall and CPU seconds are printed side by side (shared machines make wall
time noisy).

    python bench/controller_bench.py [--specs 10000] [--running 1000] [--apply 1000]
        [--page-size 100]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from batchspec.model.enums import JobState  # noqa: E402
from batchspec.plan import PlanOptions, build_plan, desired_from, load_desired  # noqa: E402
from batchspec.plan.render_markdown import render_markdown  # noqa: E402
from batchspec.plan.render_text import render_text  # noqa: E402
from batchspec.plan.saved import render_json  # noqa: E402
from batchspec.reconcile.controller import Controller, ControllerOptions  # noqa: E402
from batchspec.retry import RetryPolicy  # noqa: E402
from batchspec.state import StateStore  # noqa: E402
from batchspec.testing.backend import FakeBackend, ListingBackend  # noqa: E402
from batchspec.testing.clock import FakeClock  # noqa: E402
from batchspec.testing.specs import compiled, local_job  # noqa: E402
from batchspec.testing.state import record_job  # noqa: E402
from batchspec.validate import validate_paths  # noqa: E402


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def timed_cpu(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """The value, wall seconds and CPU seconds of this process."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - start, time.process_time() - cpu


def write_spec_files(folder: Path, count: int) -> None:
    """Spec files of 10 documents each (teams keep related jobs together)."""
    folder.mkdir(parents=True)
    per_file = 10
    for start in range(0, count, per_file):
        docs = []
        for i in range(start, min(count, start + per_file)):
            # every 10th spec changed since its job ran (replace); the rest unchanged
            size = 32 if i % 10 == 0 else 64
            docs.append(json.dumps(local_job(f"job_{i:05d}", batch_size=size, max_retries=1)))
        (folder / f"jobs_{start:05d}.yaml").write_text("\n---\n".join(docs) + "\n")


def seed_state(store: StateStore, count: int) -> None:
    """N recorded jobs: most succeeded, some running, some failed (retries left)."""
    states = [JobState.SUCCEEDED] * 7 + [JobState.RUNNING, JobState.FAILED, JobState.QUEUED]
    with store.transaction():
        for i in range(count):
            job = compiled(f"job_{i:05d}", batch_size=64, max_retries=1)
            record_job(store, job, states[i % len(states)])


def baseline_plan(store: StateStore, names: list[str]) -> int:
    """The planner one writes first: one state query per declared spec."""
    found = 0
    for name in names:
        if store.find_job(name) is not None:
            found += 1
    return found


def bench_plan(count: int) -> None:
    print(f"== plan: {count:,} specs, {count:,} recorded jobs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_spec_files(root / "specs", count)
        store = StateStore.open(root / "state.db")
        _, seed = timed(lambda: seed_state(store, count))
        print(f"   (seeding state took {seed:.1f}s)")
        desired, t_load = timed(lambda: load_desired([str(root / "specs")]))
        assert desired.ok and len(desired.jobs) == count, desired.problems[:3]
        snapshot, t_snap = timed(store.snapshot)
        plan, t_build = timed(
            lambda: build_plan(desired, snapshot, revisions=store.revisions, options=PlanOptions())
        )
        _, t_text = timed(lambda: render_text(plan))
        comments, t_md = timed(lambda: render_markdown(plan))
        _, t_json = timed(lambda: render_json(plan))
        _, t_base = timed(lambda: baseline_plan(store, sorted(desired.jobs)))
        _, t_validate = timed(lambda: validate_paths([str(root / "specs")]))
        store.close()
    print(f"   load + validate + compile  {t_load:8.2f} s  ({count / t_load:,.0f} specs/s)")
    print(f"   state snapshot             {t_snap:8.3f} s")
    print(f"   build plan                 {t_build:8.3f} s")
    print(
        f"   render text / md / json    {t_text:.3f} / {t_md:.3f} / {t_json:.3f} s"
        f"  ({len(comments)} PR comment(s))"
    )
    total = t_load + t_snap + t_build + t_text
    print(f"   total (as `batchspec plan`) {total:7.2f} s")
    print(
        f"   baseline `batchspec validate` of the same files {t_validate:.2f} s;"
        f" plan / validate = {total / t_validate:.2f}"
    )
    print(f"   plan summary: {plan.summary()}")
    print(
        f"   state read: snapshot incl. state hash {t_snap:.3f} s; one query per spec"
        f" (lookups only) {t_base:.3f} s; snapshot / per-spec = {t_snap / t_base:.2f}"
    )


def bench_pass(running: int, page_size: int) -> None:
    print(f"== reconcile pass: {running:,} running jobs, page size {page_size}")
    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore.open(Path(tmp) / "state.db")
        backend = FakeBackend(page_size=page_size)
        jobs = [compiled(f"job_{i:05d}") for i in range(running)]
        fast = RetryPolicy(initial=0.01, deadline=5)
        loop = Controller(
            store,
            lambda t: backend,
            lambda: desired_from(jobs),
            actor="bench",
            options=ControllerOptions(submit_retry=fast, observe_retry=fast),
            rng=random.Random(1),
        )
        _, t_submit = timed(loop.run_pass)
        for job in backend.jobs():
            job.state = JobState.RUNNING.value
            job.completed = 10
        loop.run_pass()  # records RUNNING
        for job in backend.jobs():
            job.completed = 20  # progress moves on: every record changes
        backend.reset_calls()
        result, t_pass = timed(loop.run_pass)
        pass_calls = dict(backend.calls)
        calls = sum(pass_calls.values())
        pages = -(-running // page_size)
        assert not result.plan.has_changes
        backend.reset_calls()
        records = store.followed_jobs()

        def baseline() -> None:
            for record in records:
                assert record.remote_name is not None
                backend.get(record.remote_name)

        _, t_base = timed(baseline)
        base_calls = sum(backend.calls.values())
        store.close()
    print(f"   first pass (submits {running:,} jobs)  {t_submit:.2f} s")
    print(f"   steady pass: {t_pass:.3f} s, backend calls {calls} {pass_calls}")
    print(f"   one list call per page = {pages} calls; calls / pages = {calls / pages:.2f}")
    print(
        f"   baseline (get per job): {base_calls} calls, {t_base:.3f} s;"
        f" calls ratio baseline / pass = {base_calls / calls:.0f}x"
    )


class SubmitOnly:
    """The baseline: a backend without `create`, so each new job is looked up
    (one list) by the backend's own `submit` before it is created."""

    def __init__(self, inner: ListingBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.submit, self.get, self.list = inner.submit, inner.get, inner.list
        self.cancel, self.outputs = inner.cancel, inner.outputs


def apply_new(count: int, page_size: int, *, baseline: bool) -> tuple[dict[str, int], float, float]:
    """Calls, wall and CPU seconds of one `apply` of `count` new jobs."""
    from batchspec.reconcile.apply import ApplyContext, apply_desired

    service = ListingBackend(page_size=page_size)
    backend: Any = SubmitOnly(service) if baseline else service
    jobs = [compiled(f"job_{i:05d}") for i in range(count)]
    clock = FakeClock()
    with StateStore.memory(now=clock.now) as store:
        ctx = ApplyContext(
            store=store,
            provider=lambda target: backend,
            actor="bench",
            clock=clock,
            rng=random.Random(1),
        )
        result, wall, cpu = timed_cpu(lambda: apply_desired(ctx, desired_from(jobs)))
    assert result.ok and service.creates == count, result.report.failed[:3]
    return dict(service.calls), wall, cpu


def bench_apply(count: int, page_size: int) -> None:
    print(
        f"== apply of {count:,} new jobs, no request ids (Vertex AI's way), page size {page_size}"
    )
    calls, wall, cpu = apply_new(count, page_size, baseline=False)
    base, b_wall, b_cpu = apply_new(count, page_size, baseline=True)
    print(f"   one list per location, then creates: {calls}; {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"   baseline, a look-up per job:        {base}; {b_wall:.2f} s wall, {b_cpu:.2f} s CPU")
    print(
        f"   list calls baseline / apply = {base['list'] / calls['list']:.0f}x;"
        f" CPU apply / baseline = {cpu / b_cpu:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=10_000)
    parser.add_argument("--running", type=int, default=1_000)
    parser.add_argument("--apply", type=int, default=1_000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    bench_plan(args.specs)
    bench_pass(args.running, args.page_size)
    bench_apply(args.apply, args.page_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
