"""A throwaway single-node Ray cluster on this machine's loopback interface.

For tests, benchmarks and trying the Ray target without a cluster:

    with LocalCluster(num_cpus=2) as cluster:
        backend = RayBackend(cluster.address)

It runs `ray start --head --block` in a process session of its own, with
every port on 127.0.0.1 (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0: without it Ray
binds the machine's outside address even when told otherwise), token
authentication off for this cluster and its clients alike, its own temporary
folder, and free ports picked for the dashboard (the Jobs API), the Ray
Client server and the dashboard agent, so it never collides with another
cluster on the machine. `stop()` signals that one process; `ray start
--block` then takes down the processes it started, which are also tied to it
by the kernel (Ray's fate sharing), so nothing outlives it even when the
process that started it dies. It never runs `ray stop`, which would stop
every Ray cluster of the user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from batchspec.errors import BatchspecError

CLIENT_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # loopback addresses only
    "RAY_AUTH_MODE": "disabled",  # a stray ~/.ray/auth_token must not switch it on
    "RAY_USAGE_STATS_ENABLED": "0",
}
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


class ClusterStartError(BatchspecError):
    """`ray start` did not bring a cluster up."""


def free_port() -> int:
    """A TCP port nobody listens on right now (outside Ray's worker port range)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not 10000 <= port <= 20000:
            return port


def _die_with_parent() -> None:  # runs in the child before exec
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalCluster:
    """One local Ray cluster, from `start()` to `stop()`."""

    def __init__(
        self,
        *,
        num_cpus: int | None = None,
        python: str | None = None,
        temp_dir: Path | None = None,
        die_with_parent: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        self.num_cpus = num_cpus
        self.python = python or sys.executable
        self._own_temp = temp_dir is None
        # unix socket paths live under it: keep it short
        self.temp_dir = temp_dir or Path(tempfile.mkdtemp(prefix="bsray-", dir="/tmp"))
        self.die_with_parent = die_with_parent
        self.extra_env = env or {}
        self.dashboard_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.temp_dir / "ray-start.log"
        self.started_in: float | None = None

    @property
    def address(self) -> str:
        """The Jobs API address (the dashboard's URL)."""
        return f"http://127.0.0.1:{self.dashboard_port}"

    def env(self) -> dict[str, str]:
        """The environment the cluster runs with: `python` first on PATH (so a
        job's `python` is this one), loopback only, no token authentication."""
        env = dict(os.environ)
        env.update(CLIENT_ENV)
        env.update(self.extra_env)
        bindir = str(Path(self.python).parent)
        env["PATH"] = os.pathsep.join(p for p in (bindir, env.get("PATH", "")) if p)
        return env

    def start(self, timeout: float = START_TIMEOUT) -> str:
        """Start the cluster and wait until its Jobs API answers; returns the address."""
        cmd = [
            self.python, "-m", "ray.scripts.scripts", "start", "--head", "--block",
            "--port=0", f"--dashboard-port={self.dashboard_port}",
            "--dashboard-host=127.0.0.1", "--node-ip-address=127.0.0.1",
            f"--ray-client-server-port={free_port()}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--temp-dir={self.temp_dir / 't'}", "--include-dashboard=true",
            "--disable-usage-stats",
        ]  # fmt: skip
        if self.num_cpus is not None:
            cmd.append(f"--num-cpus={self.num_cpus}")
        begin = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent else None,  # noqa: PLW1509
            )
        try:
            self._wait_ready(begin + timeout)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - begin
        return self.address

    def _wait_ready(self, deadline: float) -> None:
        assert self.proc is not None
        url = f"{self.address}/api/version"
        while True:
            if self.proc.poll() is not None:
                raise ClusterStartError(
                    f"ray start exited with code {self.proc.returncode}: {self._log_tail()}",
                    hint=f"the whole log is {self.log_path}",
                )
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(url, timeout=2) as resp,
            ):
                if resp.status == 200:
                    return
            if time.monotonic() > deadline:
                raise ClusterStartError(
                    f"the Ray cluster's Jobs API did not answer at {url}: {self._log_tail()}",
                    hint=f"the whole log is {self.log_path}",
                )
            time.sleep(0.25)

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def pids(self) -> list[int]:
        """The cluster's processes: `ray start` and all its descendants (GCS,
        raylet, dashboard, workers, actors, job drivers). Linux only."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return process_tree(self.proc.pid)

    def memory(self) -> dict[str, int]:
        """Bytes the cluster's processes hold now (see `memory_of`)."""
        return memory_of(self.pids())

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the cluster: SIGTERM to `ray start --block` (it stops what it
        started), SIGKILL to its process group if it takes too long."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the group we created
                proc.wait(10)
        if proc is not None:
            self._reap_group(proc.pid)
        if self._own_temp:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def _reap_group(self, pgid: int, grace: float = 10.0) -> None:
        """Wait for stragglers of our process group; SIGKILL them after `grace`."""
        deadline = time.monotonic() + grace
        while _group_alive(pgid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                return
            time.sleep(0.2)

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc (Linux; [root] elsewhere)."""
    children: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                ppid = _ppid(int(entry.name))
                if ppid is not None:
                    children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def memory_of(pids: list[int]) -> dict[str, int]:
    """Bytes a set of processes holds now: `rss` (shared pages counted in every
    process: an upper bound) and `pss` (shared pages divided among their users:
    what they really cost together). Processes gone meanwhile count 0."""
    rss = pss = 0
    for pid in pids:
        rss += _proc_kb(f"/proc/{pid}/status", "VmRSS:") * 1024
        pss += _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:") * 1024
    return {"rss": rss, "pss": pss}


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _proc_kb(path: str, key: str) -> int:
    """A `key: N kB` value from a /proc file (0 when the process is gone)."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
