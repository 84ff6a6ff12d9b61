"""Time, injectable: the controller's waits and deadlines are tested without sleeping.

A `Clock` is also a `batchspec.retry.RetryClock` (monotonic + sleep), so the
controller's retries run on the same clock as its passes.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Protocol

from batchspec.state.records import utc_now


class Clock(Protocol):
    """Wall time for records and deadlines; monotonic time and sleep for waits."""

    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait `seconds` or until `stop` is set; True when stopped."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        return utc_now()

    def monotonic(self) -> float:
        """time.monotonic()."""
        return time.monotonic()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Sleep, waking early when `stop` is set (SIGTERM)."""
        if stop is None:
            time.sleep(max(0.0, seconds))
            return False
        return stop.wait(max(0.0, seconds))
