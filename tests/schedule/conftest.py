"""A world for recurring specs: a state file, a fake clock, the backend double,
and a controller whose desired set is one recurring spec (changeable)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from batchspec.plan.desired import Desired, desired_from
from batchspec.reconcile.controller import Controller, ControllerOptions, PassResult
from batchspec.retry import RetryPolicy
from batchspec.state import StateStore
from batchspec.testing.backend import FakeBackend
from batchspec.testing.clock import FakeClock
from batchspec.testing.specs import compile_doc, local_job

FAST = RetryPolicy(initial=1.0, maximum=4.0, deadline=20.0)


def nightly(name: str = "nightly", model: str | None = None, **schedule: Any) -> dict[str, Any]:
    """A local job that runs at 02:30 Berlin time, one output folder per run."""
    sched = {"cron": "30 2 * * *", "timeZone": "Europe/Berlin", **schedule}
    extra = {"model": model} if model else {}
    return local_job(name, output={"path": f"out/{name}/{{run.date}}"}, schedule=sched, **extra)


@dataclass
class World:
    store: StateStore
    backend: FakeBackend
    clock: FakeClock
    source: Path
    docs: list[dict[str, Any]] = field(default_factory=list)

    def desired(self) -> Desired:
        return desired_from([compile_doc(d, source=self.source) for d in self.docs])

    def controller(self, **options: Any) -> Controller:
        return Controller(
            self.store,
            lambda _target: self.backend,
            self.desired,
            actor="controller",
            options=ControllerOptions(submit_retry=FAST, observe_retry=FAST, **options),
            clock=self.clock,
            rng=random.Random(3),
        )

    def at(self, moment: datetime) -> PassResult:
        """Move the clock to `moment` and make one pass."""
        self.clock.current = moment
        return self.controller().run_pass()

    def run_keys(self) -> list[str]:
        return [j.labels.get("batchspec-run", "") for j in self.backend.jobs()]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = FakeClock(datetime(2026, 3, 25, 12, 0, tzinfo=UTC))
    store = StateStore.open(tmp_path / "state.db", now=clock.now)
    backend = FakeBackend(output_root=tmp_path / "outputs", page_size=20, now=clock.now)
    source = tmp_path / "specs" / "nightly.yaml"
    source.parent.mkdir()
    source.write_text("{}")
    yield World(store, backend, clock, source, [nightly()])
    store.close()
