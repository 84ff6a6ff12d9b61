"""A local job's folder: the durable record of a job, like a service's database row.

    <root>/jobs/<name>-<fingerprint[:12]>/
        job.json          what to run: compiled body, labels, spec folder (written once,
                          mode 0600, secrets redacted; `${env:NAME}` kept as written)
        secrets.json      the literal values redaction took out of job.json (mode 0600;
                          only when the spec holds some)
        status.json       state, times, counts, heartbeat, error (atomic rewrites)
        plan.json         the shard plan (written once, before the first shard)
        shards/NNNNN.json one record per published shard (counts, checksums)
        cancel            present when cancellation was requested
        supervisor.lock   flock held by the live supervisor for its whole life
        logs/             events.log (the supervisor's events), and supervisor,
                          worker, model server and command output

Liveness comes from the lock: the kernel drops an flock when its holder dies,
even by SIGKILL, so "can I take the lock?" answers "is a supervisor alive?"
without trusting pids (which get reused) or clocks. The heartbeat in
status.json (`updateTime`) additionally shows a supervisor that is alive but
stuck.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchspec.engine.fileio import read_json, read_json_or_none, write_json_atomic
from batchspec.secrets import resolve
from batchspec.state.lease import pid_alive
from batchspec.state.redact import restore, split

JOB_FILE = "job.json"
STATUS_FILE = "status.json"
PLAN_FILE = "plan.json"
CANCEL_FILE = "cancel"
LOCK_FILE = "supervisor.lock"
LAUNCH_FILE = "launch.json"
EVENTS_LOG = "events.log"
SECRETS_FILE = "secrets.json"


def now_iso() -> str:
    """UTC timestamp with milliseconds, RFC 3339."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str | None) -> datetime | None:
    """Inverse of `now_iso` (None stays None)."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class JobDir:
    """Typed access to one job folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # polled every tick of a running job: a str, not a Path joined each time
        self._cancel_file = os.path.join(path, CANCEL_FILE)

    @property
    def id(self) -> str:
        """The job's local id (the folder name)."""
        return self.path.name

    @property
    def logs(self) -> Path:
        """Log folder (created on demand)."""
        p = self.path / "logs"
        p.mkdir(exist_ok=True)
        return p

    @property
    def shards_dir(self) -> Path:
        """Shard records folder (created on demand)."""
        p = self.path / "shards"
        p.mkdir(exist_ok=True)
        return p

    def log(self, message: str) -> None:
        """Append a line to the job's event log (`logs/events.log`)."""
        with open(self.logs / EVENTS_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{now_iso()} {message}\n")

    def exists(self) -> bool:
        """True once the job record is complete."""
        return (self.path / JOB_FILE).exists()

    # --- records -----------------------------------------------------------------

    def read_job(self) -> dict[str, Any]:
        """The immutable job record (secrets redacted)."""
        data: dict[str, Any] = read_json(self.path / JOB_FILE)
        return data

    def write_job(self, record: dict[str, Any]) -> None:
        """Write the job record once: job.json with secrets redacted, and the
        values redaction took out (a literal the spec holds under a secret
        key) in a file of their own, both readable by the owner only.
        `${env:NAME}` references are kept as references."""
        marked = record.get("secretKeys") or ()
        body, taken = split(record["body"], marked)
        write_json_atomic(self.path / JOB_FILE, {**record, "body": body}, mode=0o600)
        if taken:
            values = [[list(path), value] for path, value in taken]
            write_json_atomic(self.path / SECRETS_FILE, {"values": values}, mode=0o600)

    def read_job_to_run(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The job record with its real values, for the supervisor only: the
        redacted values put back and every `${env:NAME}` resolved from `env`
        (default: this process's environment). Never write the result.
        Raises MissingSecretError naming every variable that is not set."""
        record = self.read_job()
        kept = read_json_or_none(self.path / SECRETS_FILE)
        body = record["body"]
        if kept:
            body = restore(body, [(tuple(path), value) for path, value in kept["values"]])
        return {**record, "body": resolve(body, env)}

    def read_status(self) -> dict[str, Any]:
        """The current status record."""
        data: dict[str, Any] = read_json_or_none(self.path / STATUS_FILE) or {}
        return data

    def write_status(self, status: dict[str, Any], *, durable: bool = True) -> None:
        """Replace the status record (state changes are durable, progress not)."""
        write_json_atomic(self.path / STATUS_FILE, status, durable=durable)

    def update_status(self, *, durable: bool = True, **changes: Any) -> dict[str, Any]:
        """Read, change, write back."""
        status = self.read_status()
        status.update(changes)
        status["updateTime"] = now_iso()
        self.write_status(status, durable=durable)
        return status

    def read_plan(self) -> dict[str, Any] | None:
        """The saved shard plan, if the job got that far."""
        data: dict[str, Any] | None = read_json_or_none(self.path / PLAN_FILE)
        return data

    def write_plan(self, plan: dict[str, Any]) -> None:
        """Save the shard plan."""
        write_json_atomic(self.path / PLAN_FILE, plan)

    def shard_file(self, index: int) -> Path:
        """Where a shard's record lives."""
        return self.shards_dir / f"{index:05d}.json"

    def write_shard(self, record: dict[str, Any]) -> None:
        """Record a published shard."""
        write_json_atomic(self.shard_file(int(record["index"])), record)

    def shard_records(self) -> dict[int, dict[str, Any]]:
        """Every recorded shard by index."""
        out: dict[int, dict[str, Any]] = {}
        folder = self.path / "shards"
        if not folder.is_dir():
            return out
        for p in folder.glob("*.json"):
            with contextlib.suppress(ValueError, OSError):
                rec = read_json(p)
                out[int(rec["index"])] = rec
        return out

    def clear_shards(self) -> None:
        """Forget shard records (a fresh plan)."""
        folder = self.path / "shards"
        if folder.is_dir():
            for p in folder.glob("*.json"):
                p.unlink(missing_ok=True)

    # --- cancellation ------------------------------------------------------------

    def request_cancel(self) -> None:
        """Ask the supervisor to stop (a marker file it polls)."""
        (self.path / CANCEL_FILE).write_text(now_iso() + "\n")

    def cancel_requested(self) -> bool:
        """True once cancel was asked for."""
        return os.path.exists(self._cancel_file)

    # --- the supervisor lock -----------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[int | None]:
        """Hold the supervisor lock; yields the locked file descriptor, or None
        when someone else still holds it after `wait` seconds."""
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield None
                        return
                    time.sleep(0.05)
            try:
                yield fd
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def write_launch(self, pid: int) -> None:
        """Record that a supervisor process was just started."""
        write_json_atomic(self.path / LAUNCH_FILE, {"pid": pid, "time": time.time()})

    def launching(self, grace: float = 10.0) -> bool:
        """True while a just-started supervisor may still be on its way to the
        lock: its process runs and it was started less than `grace` s ago."""
        launch = read_json_or_none(self.path / LAUNCH_FILE)
        if not launch or time.time() - float(launch["time"]) > grace:
            return False
        return process_running(int(launch["pid"]))

    def supervisor_alive(self) -> bool:
        """True while some process holds the supervisor lock."""
        with self.lock(wait=0.0) as fd:
            return fd is None


def process_running(pid: int) -> bool:
    """True when `pid` exists and is not a zombie (a zombie child is reaped)."""
    if not pid_alive(pid):
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True
