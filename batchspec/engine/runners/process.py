"""Child processes of a runner (model servers, commands): started so they die
with the worker, stopped as a group, and with their output kept in a log
whose tail goes into error messages."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from batchspec.engine.errors import ModelLoadError, os_errors

TAIL_BYTES = 2000


def _die_with_parent() -> None:  # runs in the child between fork and exec
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def preexec() -> Callable[[], None] | None:
    """Linux: the child gets SIGTERM when the worker that started it dies, so a
    SIGKILLed job leaves no model server behind."""
    return _die_with_parent if sys.platform.startswith("linux") else None


def spawn(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Start `command` in its own process group with output going to `log`."""
    with os_errors(
        ModelLoadError,
        missing=f"cannot start {command[0]!r}: no such program",
        hint="check `command` (run from the spec file's folder)",
        failed=f"cannot start {' '.join(command)}",
    ):
        proc = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec(),  # noqa: PLW1509 - runners start no threads
        )
    return proc


def stop(proc: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL it after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    else:  # the leader is gone; its group may not be
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def tail(path: Path, *, start: int = 0) -> str:
    """The last lines a child wrote (for error messages), after byte `start`
    (a log shared by several runs: only this run's lines)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(start, size - TAIL_BYTES))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = text.strip().splitlines()
    return "\n".join(lines[-15:])


def exit_text(code: int) -> str:
    """`exited with code 3` or `was killed by SIGKILL`."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


# --- watching a running program: memory, hangs, time ----------------------------------

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Watched:
    """How a watched program ended: its exit status, why batchspec stopped
    it (`timeout`, `hung`, `memory`; None when it ended by itself) and the
    most memory its process group held."""

    code: int
    stopped: str | None
    peak_memory: int | None
    idle_seconds: float = 0.0


def group_usage(pgid: int) -> tuple[int, int] | None:
    """CPU ticks and resident bytes of every process in the group (Linux
    /proc; None elsewhere), so children the program starts count too."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = rss = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            raw = (proc / entry / "stat").read_bytes()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2 :].split()
        if int(fields[2]) != pgid:  # fields[0] is the state; pgrp is the 5th of stat
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
        rss += int(fields[21]) * page
    return ticks, rss


def watch(
    proc: subprocess.Popen[bytes],
    *,
    timeout: float,
    hang_timeout: float | None,
    memory_limit: int | None,
    activity: Callable[[], int],
    clock: Callable[[], float] = time.monotonic,
) -> Watched:
    """Wait for `proc`, stopping it (its whole group) when it runs past
    `timeout`, holds more than `memory_limit` bytes (what a container's
    memory limit does: the kernel kills it), or uses no CPU while
    `activity()` (bytes written) stays the same for `hang_timeout` seconds."""
    start = last_change = clock()
    last: tuple[int, int] = (-1, -1)
    peak: int | None = None
    while True:
        try:
            code = proc.wait(POLL_SECONDS)
            return Watched(code, None, peak)
        except subprocess.TimeoutExpired:
            pass
        now = clock()
        usage = group_usage(proc.pid)
        if usage is not None:
            peak = max(peak or 0, usage[1])
            if memory_limit is not None and usage[1] > memory_limit:
                _kill_group(proc)
                return Watched(proc.wait(), "memory", peak)
            seen = (usage[0], activity())
            if seen != last:
                last, last_change = seen, now
        if hang_timeout is not None and now - last_change >= hang_timeout:
            stop(proc, grace=1.0)
            return Watched(proc.wait(), "hung", peak, now - last_change)
        if now - start >= timeout:
            stop(proc, grace=1.0)
            return Watched(proc.wait(), "timeout", peak)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class MemoryGuard:
    """A long-running program's memory limit (a model server's): a thread
    that watches its process group and kills it past `limit` bytes, as a
    container's memory limit would, remembering the most it held."""

    def __init__(self, proc: subprocess.Popen[bytes], limit: int) -> None:
        import threading

        self.proc = proc
        self.limit = limit
        self.peak: int | None = None
        self.killed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-guard", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS) and self.proc.poll() is None:
            usage = group_usage(self.proc.pid)
            if usage is None:
                return
            self.peak = max(self.peak or 0, usage[1])
            if usage[1] > self.limit:
                self.killed = True
                _kill_group(self.proc)
                return

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join(timeout=2)
