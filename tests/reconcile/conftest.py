"""Fixtures for the reconcile tests: a state file, a fake clock, a backend double."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchspec.reconcile.apply import ApplyContext
from batchspec.retry import RetryPolicy
from batchspec.state import StateStore
from batchspec.testing.backend import FakeBackend
from batchspec.testing.clock import FakeClock

FAST_RETRY = RetryPolicy(initial=1.0, maximum=8.0, deadline=120.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[StateStore]:
    s = StateStore.open(tmp_path / "state.db", now=clock.now)
    yield s
    s.close()


@pytest.fixture
def backend(tmp_path: Path) -> FakeBackend:
    return FakeBackend(output_root=tmp_path / "outputs", page_size=20)


@pytest.fixture
def ctx(store: StateStore, backend: FakeBackend, clock: FakeClock) -> ApplyContext:
    return ApplyContext(
        store=store,
        provider=lambda target: backend,
        actor="test",
        clock=clock,
        rng=random.Random(7),
        retry=FAST_RETRY,
    )
