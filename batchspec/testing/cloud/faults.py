"""Faults the double injects on demand: error answers, lost answers, dropped
connections, and jobs that end badly."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from batchspec.rpc import HTTP_STATUS

STATUS_NAMES = HTTP_STATUS


@dataclass
class Fault:
    """One planned misbehaviour.

    kind: "status" answers `status` without doing the work; "timeout" does the
    work, then holds the answer for `delay` seconds (longer than the client
    waits); "drop" does the work, then closes the connection unanswered.
    `call` is the method's last id segment (create, get, list, cancel, delete);
    `api` limits it to vertex / genai / mlengine (None: any)."""

    call: str
    kind: str
    status: int = 503
    message: str = ""
    delay: float = 0.0
    times: int = 1
    api: str | None = None


class Faults:
    """A thread-safe queue of faults, consumed as matching calls arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[Fault] = []
        self.fired: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._planned.append(fault)
        return fault

    def status(
        self, call: str, status: int, *, times: int = 1, message: str = "", api: str | None = None
    ) -> Fault:
        """Answer the next `times` matching calls with HTTP `status`."""
        text = message or f"injected {status} {STATUS_NAMES.get(status, '')}".strip()
        return self.add(Fault(call, "status", status=status, message=text, times=times, api=api))

    def timeout(self, call: str, *, delay: float, times: int = 1, api: str | None = None) -> Fault:
        """Do the next matching call, then answer only after `delay` seconds."""
        return self.add(Fault(call, "timeout", delay=delay, times=times, api=api))

    def drop(self, call: str, *, times: int = 1, api: str | None = None) -> Fault:
        """Do the next matching call, then close the connection unanswered."""
        return self.add(Fault(call, "drop", times=times, api=api))

    def take(self, call: str, api: str) -> Fault | None:
        """The fault that applies to this call, if any (and use one of its times)."""
        with self._lock:
            for fault in self._planned:
                if fault.call == call and fault.api in (None, api):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._planned.remove(fault)
                    self.fired.append(fault)
                    return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._planned)
