"""`batchspec ui` jobs list over N recorded jobs (default 10,000), measured
side by side with `batchspec status -o json` over the same state file.

The server runs as `batchspec ui --port 0` (uvicorn, as users run it); pages
are fetched over HTTP from this process, and the server's CPU seconds are
read from /proc before and after. The baseline runs `batchspec status -o
json` in-process (the same work without interpreter start-up) and as a
command; the aim is a page costing no more than the JSON status.

    python bench/ui_bench.py [--jobs 10000] [--pages 40] [--size 50]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from batchspec.cli.main import main as cli  # noqa: E402
from batchspec.model.enums import JobState  # noqa: E402
from batchspec.state import StateStore  # noqa: E402
from batchspec.testing.specs import compiled  # noqa: E402
from batchspec.testing.state import record_job  # noqa: E402

READY = "batchspec ui: serving"
STATES = [JobState.SUCCEEDED] * 6 + [JobState.RUNNING, JobState.FAILED, JobState.QUEUED, None]


def seed(path: Path, count: int) -> None:
    """N current jobs in a mix of states (None: submit not answered yet)."""
    with StateStore.open(path) as store, store.transaction():
        for i in range(count):
            job = compiled(f"job_{i:05d}")
            state = STATES[i % len(STATES)]
            observed = {"completed_count": i % 100, "total_count": 100} if state else {}
            record_job(store, job, state, remote_name=f"bench/{job.name}", **observed)


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(state: Path) -> Iterator[tuple[str, int]]:
    """`batchspec ui` on a free loopback port; yields (url, pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchspec", "ui", "--port", "0", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=state.parent,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        while True:
            line = lines.get(timeout=120)
            if line.startswith(READY):
                url = next(w for w in line.split() if w.startswith("http://"))
                break
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return bytes(response.read())


def measure(pid: int, urls: list[str]) -> tuple[float, float, int]:
    """(wall seconds, server CPU seconds, bytes) for fetching `urls` in turn."""
    before, start, size = cpu_of(pid), time.perf_counter(), 0
    for url in urls:
        size += len(fetch(url))
    return time.perf_counter() - start, cpu_of(pid) - before, size


def in_process(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds per call of fn, run in this process."""
    cpu0, start = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat, (time.process_time() - cpu0) / repeat


def status_json(state: Path) -> int:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli(["status", "-o", "json", "--state", str(state)])
    assert code == 0 and out.getvalue().startswith("[")
    return len(out.getvalue())


def status_command(state: Path, repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds per `batchspec status -o json` command."""
    usage0, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    for _ in range(repeat):
        subprocess.run(
            [sys.executable, "-m", "batchspec", "status", "-o", "json", "--state", str(state)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime
    return wall / repeat, cpu / repeat


def page_urls(base: str, pages: int, size: int, total: int) -> dict[str, list[str]]:
    last = max(1, total // size)
    numbers = [1 + (i * 37) % last for i in range(pages)]  # spread over the whole list
    return {
        "HTML page": [f"{base}?page={n}&size={size}" for n in numbers],
        "JSON page (/api/jobs)": [f"{base}api/jobs?page={n}&size={size}" for n in numbers],
        "filtered HTML (state+search)": [
            f"{base}?state=RUNNING&state=FAILED&q=job_0&page={1 + n % 10}&size={size}"
            for n in numbers
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--size", type=int, default=50, choices=[25, 50, 100, 200])
    parser.add_argument("--status-runs", type=int, default=5)
    args = parser.parse_args()
    print(f"== jobs list: {args.jobs:,} recorded jobs, pages of {args.size}")
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.db"
        start = time.perf_counter()
        seed(state, args.jobs)
        print(f"   (seeding state took {time.perf_counter() - start:.1f}s)")
        status_json(state)  # warm the page cache and imports
        s_wall, s_cpu = in_process(lambda: status_json(state), args.status_runs)
        c_wall, c_cpu = status_command(state, args.status_runs)
        size = status_json(state)
        print(
            f"   baseline `status -o json` in-process: {s_wall * 1e3:8.1f} ms wall,"
            f" {s_cpu * 1e3:8.1f} ms CPU ({size / 1e6:.1f} MB of JSON)"
        )
        print(
            f"   baseline `status -o json` command:    {c_wall * 1e3:8.1f} ms wall,"
            f" {c_cpu * 1e3:8.1f} ms CPU (with interpreter start-up)"
        )
        with server(state) as (url, pid):
            fetch(url)  # first request: templates compiled, caches filled
            per_page: dict[str, float] = {}
            for label, urls in page_urls(url, args.pages, args.size, args.jobs).items():
                wall, cpu, size = measure(pid, urls)
                n = len(urls)
                per_page[label] = cpu / n
                print(
                    f"   {label:<30} {wall / n * 1e3:7.1f} ms wall, {cpu / n * 1e3:7.1f} ms server"
                    f" CPU per page ({size / n / 1e3:.0f} kB);"
                    f" ratio to status in-process: wall {wall / n / s_wall:.3f},"
                    f" CPU {cpu / n / s_cpu:.3f}; to the command: wall {wall / n / c_wall:.3f}"
                )
            html, data = per_page["HTML page"], per_page["JSON page (/api/jobs)"]
            print(f"   HTML page / JSON of the same page: CPU {html / data:.2f}")
    print("   aim: ratio <= 1 (a page costs no more than the JSON status)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
