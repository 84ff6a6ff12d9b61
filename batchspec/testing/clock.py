"""A clock that only moves when told to (or when the code under test sleeps)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Implements batchspec.reconcile.clock.Clock; sleeping advances time at once."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        self.sleeps.append(seconds)
        self.advance(seconds)
        return stop.is_set() if stop is not None else False

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        self.mono += seconds
