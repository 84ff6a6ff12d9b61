"""Recurring specs under the controller, measured side by side in one run.

A reconcile pass over N scheduled specs (default 1,000), each with a finished
run behind it, against the counting backend double on a fake clock:

* none due: backend calls per pass (the aim: only the usual list pages) and
  wall / CPU time as a ratio to a pass over N unscheduled specs in the same
  steady state (every job recorded and finished);
* 10 % due: the same pass when one spec in ten has a tick due (each due tick
  is one create, nothing else).

Wall and CPU seconds are printed side by side (shared machines make wall
time noisy).

    python bench/schedule_bench.py [--specs 1000] [--page-size 100]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from batchspec.plan import desired_from  # noqa: E402
from batchspec.reconcile.controller import Controller, ControllerOptions, PassResult  # noqa: E402
from batchspec.retry import RetryPolicy  # noqa: E402
from batchspec.state import StateStore  # noqa: E402
from batchspec.testing.backend import FakeBackend  # noqa: E402
from batchspec.testing.clock import FakeClock  # noqa: E402
from batchspec.testing.specs import compiled  # noqa: E402

START = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)
QUIET = "0 1 * * *"  # the first run at 01:00, then nothing until tomorrow
DUE = "0 1,3 * * *"  # one spec in ten: again at 03:00


def timed_cpu(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """The value, wall seconds and CPU seconds of this process."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - start, time.process_time() - cpu


class World:
    """A state file, the counting backend and a controller over `jobs`."""

    def __init__(self, folder: Path, jobs: list[Any], page_size: int) -> None:
        self.clock = FakeClock(START)
        self.store = StateStore.open(folder / "state.db", now=self.clock.now)
        self.backend = FakeBackend(page_size=page_size, now=self.clock.now)
        fast = RetryPolicy(initial=0.01, deadline=5)
        self.controller = Controller(
            self.store,
            lambda _target: self.backend,
            lambda: desired_from(jobs),
            actor="bench",
            options=ControllerOptions(submit_retry=fast, observe_retry=fast),
            clock=self.clock,
            rng=random.Random(1),
        )

    def at(self, hour: int, minute: int = 0) -> PassResult:
        self.clock.current = START.replace(hour=hour, minute=minute)
        return self.controller.run_pass()

    def measured(self, hour: int, minute: int = 0) -> tuple[dict[str, int], float, float]:
        """Calls, wall and CPU seconds of one pass at hour:minute."""
        self.backend.reset_calls()
        _, wall, cpu = timed_cpu(lambda: self.at(hour, minute))
        return dict(self.backend.calls), wall, cpu


def steady(world: World, *, scheduled: bool) -> None:
    """Every spec recorded with one finished job (a run, for scheduled specs)."""
    world.at(0, 30)  # one-off specs: created; scheduled ones: recorded
    if scheduled:
        world.at(1, 1)  # every first tick: one run each
    world.backend.advance(5)
    world.at(1, 30)  # the ends recorded
    world.at(1, 40)


def spec_jobs(count: int, *, scheduled: bool) -> list[Any]:
    out = []
    for i in range(count):
        if not scheduled:
            out.append(compiled(f"job_{i:05d}"))
            continue
        cron = DUE if i % 10 == 0 else QUIET
        out.append(
            compiled(
                f"job_{i:05d}",
                schedule={"cron": cron, "timeZone": "UTC"},
                output={"path": f"out/job_{i:05d}/{{run.id}}"},
            )
        )
    return out


def shown(calls: dict[str, int]) -> str:
    return f"{sum(calls.values())} {calls}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=1_000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    count, pages = args.specs, -(-args.specs // args.page_size)
    print(f"== reconcile pass over {count:,} specs, page size {args.page_size}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "plain").mkdir()
        plain = World(Path(tmp) / "plain", spec_jobs(count, scheduled=False), args.page_size)
        steady(plain, scheduled=False)
        base, b_wall, b_cpu = plain.measured(2)
        plain.store.close()
        (Path(tmp) / "sched").mkdir()
        sched = World(Path(tmp) / "sched", spec_jobs(count, scheduled=True), args.page_size)
        steady(sched, scheduled=True)
        quiet, q_wall, q_cpu = sched.measured(2)
        creates = sched.backend.creates
        due, d_wall, d_cpu = sched.measured(3, 1)
        ran = sched.backend.creates - creates
        sched.store.close()
    print(f"   one list call per page = {pages} calls")
    print(f"   unscheduled, steady:   calls {shown(base)}; {b_wall:.3f} s wall, {b_cpu:.3f} s CPU")
    print(f"   scheduled, none due:   calls {shown(quiet)}; {q_wall:.3f} s wall, {q_cpu:.3f} s CPU")
    print(
        f"   scheduled, 10 % due:   calls {shown(due)} ({ran} runs started);"
        f" {d_wall:.3f} s wall, {d_cpu:.3f} s CPU"
    )
    print(
        f"   none due / unscheduled: calls {sum(quiet.values()) / sum(base.values()):.2f},"
        f" wall {q_wall / b_wall:.2f}, CPU {q_cpu / b_cpu:.2f}"
    )
    print(
        f"   10 % due / unscheduled: calls {sum(due.values()) / sum(base.values()):.2f},"
        f" wall {d_wall / b_wall:.2f}, CPU {d_cpu / b_cpu:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
