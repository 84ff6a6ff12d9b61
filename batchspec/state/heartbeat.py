"""Keeping a hold (the local lease, the remote lock) renewed from a thread.

Both holds must be lost the same way: the renewal that finds the hold taken
ends the renewals and is kept, and the owner calls `check()` before each
action, so it stops instead of acting on state another writer now owns.
One loop serves both, so neither learns of a loss later than the other.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

E = TypeVar("E", bound=BaseException)


class Heartbeat(Generic[E]):
    """Renew every third of `ttl` from a daemon thread until stopped. A
    subclass says in `_beat` how one renewal goes."""

    ttl: float
    lost: E | None = None
    _thread: threading.Thread | None = None

    def _beat(self) -> E | None:
        """Renew once: the error saying the hold is lost, or None (also for a
        failure the next beat may mend, a busy file or a dropped request)."""
        raise NotImplementedError

    def _start_beats(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beats, name=name, daemon=True)
        self._thread.start()

    def _beats(self) -> None:
        stop = self._stop
        while not stop.wait(self.ttl / 3):
            lost = self._beat()
            if lost is not None:
                self.lost = lost
                return

    def _stop_beats(self, timeout: float) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=timeout)
            self._thread = None

    def check(self) -> None:
        """Raise when the hold was lost (called before each action)."""
        if self.lost is not None:
            raise self.lost
