"""What a run costs: CPU seconds and whole-process-tree memory (Linux /proc).

CPU seconds do not depend on what else the machine runs, wall time does, so
every bench prints both. Two ways to count CPU:

* `ChildCpu`: exact, for processes this one starts and reaps (the kernel adds
  a reaped child's CPU, and that of the children it reaped, to ours);
* `Usage.cpu_seconds`: sampled from /proc, for long-lived processes that are
  not ours to reap (a Ray cluster's daemons count only what they used during
  the run).

Memory is the peak of the sum over a process tree (the supervisor and its
workers, or the whole Ray cluster), as PSS (shared pages divided among the
processes that map them: what they cost together) and RSS (shared pages
counted in each: an upper bound), never the largest single process.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from batchspec.raycluster.localcluster import memory_of, process_tree

MB = 1024 * 1024


class ChildCpu:
    """CPU seconds of the children reaped inside the `with` block."""

    def __enter__(self) -> ChildCpu:
        self._before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._start = time.perf_counter()
        self.seconds = self.wall = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.wall = time.perf_counter() - self._start
        self.seconds = (after.ru_utime - self._before.ru_utime) + (
            after.ru_stime - self._before.ru_stime
        )


def reap(pid: int) -> None:
    """Wait for our child `pid` to exit (its CPU then counts in `ChildCpu`)."""
    with contextlib.suppress(ChildProcessError):  # reaped already (subprocess's cleanup)
        os.waitpid(pid, 0)


def tree_of(root: Callable[[], int | None]) -> Callable[[], list[int]]:
    """The processes under whatever pid `root()` names now (none yet: [])."""

    def pids() -> list[int]:
        pid = root()
        return process_tree(pid) if pid else []

    return pids


class Usage:
    """Samples a set of processes in a thread: the peak of their summed memory,
    and the CPU seconds they used from the start (processes already running
    at the start count only what they used meanwhile)."""

    def __init__(self, pids: Callable[[], list[int]], every: float = 0.1) -> None:
        self._pids = pids
        self._every = every
        self.peak = {"rss": 0, "pss": 0}
        self._base = {pid: _cpu_ticks(pid) for pid in pids()}
        self._last: dict[int, int] = dict(self._base)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        pids = self._pids()
        now = memory_of(pids)
        if now["pss"] > self.peak["pss"]:
            self.peak = now
        for pid in pids:
            self._last[pid] = max(self._last.get(pid, 0), _cpu_ticks(pid))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._every)

    @property
    def cpu_seconds(self) -> float:
        """CPU used by the sampled processes during the run (sampled: short-lived
        processes between two samples are missed; prefer `ChildCpu`)."""
        ticks = sum(t - self._base.get(pid, 0) for pid, t in self._last.items())
        return ticks / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> Usage:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (not its children's: they are
    sampled themselves)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def measure_local(backend: Any, job: Any) -> tuple[Any, ChildCpu, Usage]:
    """Submit `job` to a `LocalBackend` as users do (a detached supervisor) and
    wait until its supervisor exits: the finished job, the exact CPU of the
    supervisor and its workers (reaped here: it is our child), and the peak
    memory of that process tree."""
    holder: dict[str, int] = {}
    with ChildCpu() as cpu, Usage(tree_of(lambda: holder.get("pid"))) as mem:
        remote = backend.rerun(job)
        launch = json.loads((backend.job_dir(remote.remote_name) / "launch.json").read_text())
        holder["pid"] = int(launch["pid"])
        while not (remote := backend.get(remote.remote_name)).terminal:
            time.sleep(0.02)
        reap(holder["pid"])
    return remote, cpu, mem
