"""Live progress of jobs running on this machine, read from the local engine.

Recorded state moves when a controller observes (`apply --wait`,
`reconcile`, `status --refresh`); a local job started by a plain `apply`
keeps running in its detached supervisor with nobody recording. The engine
keeps its own durable status (`status.json`, shard records, an event log)
in the job's folder, so the pages read it directly: a bar that moves while
the job runs, whoever watches. Cloud jobs show what the controller last
recorded from the service's completion stats; the pages never call a cloud
API (no credentials, no cost, no rate limit spent on a browser tab).

Everything here only reads files; the engine is reached through its
backend's `get` and `job_dir`, never by writing.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from batchspec.model.enums import JobState
from batchspec.model.jobs import RemoteJob
from batchspec.state.records import JobRecord

T = TypeVar("T")

LIVE_BACKENDS = frozenset({"local"})  # backends whose `get` reads local files only
_PUBLISHED = re.compile(
    r"^(?P<at>\S+) shard (?P<index>\d+) published by worker \d+:"
    r" (?P<done>\d+) predictions, (?P<failed>\d+) failed"
)


@runtime_checkable
class EngineFolders(Protocol):
    """A backend whose jobs live in folders on this machine (the local engine)."""

    def get(self, remote_name: str) -> RemoteJob:
        """The job as the engine reports it now."""
        ...

    def job_dir(self, remote_name: str) -> Path:
        """The job's folder: status, shard records, logs."""
        ...

    def outputs(self, remote_name: str) -> list[str]:
        """The job's published result and error files."""
        ...


@dataclass(frozen=True)
class LiveStatus:
    """A job as the engine reports it at this moment."""

    state: JobState
    completed: int
    failed: int
    total: int | None
    started: datetime | None
    ended: datetime | None
    error: str | None


@dataclass(frozen=True)
class ShardCount:
    """One published shard: where its input came from and what became of it."""

    index: int
    label: str
    completed: int
    failed: int


@dataclass
class RunLog:
    """What a local run left in its folder: progress over time, shard counts."""

    started: datetime | None = None
    progress: list[tuple[datetime, int]] = field(default_factory=list)  # cumulative done
    shards: list[ShardCount] = field(default_factory=list)
    folder: str | None = None


class LiveView:
    """Reads the local engine's view of jobs (None for jobs it cannot see)."""

    def __init__(self, provider: Callable[[str], Any] | None = None) -> None:
        self._provider = provider
        self._backends: dict[str, EngineFolders | None] = {}

    def _backend(self, name: str) -> EngineFolders | None:
        if name not in LIVE_BACKENDS:
            return None
        if name not in self._backends:
            found: EngineFolders | None = None
            with contextlib.suppress(Exception):  # a backend that cannot load: no live view
                backend = self._registry()(name)
                found = backend if isinstance(backend, EngineFolders) else None
            self._backends[name] = found
        return self._backends[name]

    def _registry(self) -> Callable[[str], Any]:
        if self._provider is None:
            from batchspec.backends.registry import BackendRegistry

            self._provider = BackendRegistry()
        return self._provider

    def _ask(self, record: JobRecord, ask: Callable[[EngineFolders, str], T]) -> T | None:
        """What the engine says of a recorded job, or None when it cannot say:
        no remote name, no engine behind its backend, or its folder gone or
        unreadable (the recorded row then stands)."""
        backend = self._backend(record.backend) if record.remote_name else None
        if backend is None or record.remote_name is None:
            return None
        try:
            return ask(backend, record.remote_name)
        except Exception:
            return None

    def status(self, record: JobRecord) -> LiveStatus | None:
        """The engine's current status of a job the state does not see ended."""
        job = None if record.terminal else self._ask(record, lambda b, name: b.get(name))
        if job is None:
            return None
        return LiveStatus(
            state=job.state,
            completed=job.completed_count,
            failed=job.failed_count,
            total=job.total_count,
            started=job.start_time,
            ended=job.end_time,
            error=job.error,
        )

    def outputs(self, record: JobRecord) -> list[str] | None:
        """The result and error files the engine published for this job (None
        when the engine does not know the job)."""
        return self._ask(record, lambda b, name: list(b.outputs(name)))

    def run_log(self, record: JobRecord) -> RunLog | None:
        """Progress over time and per-shard counts of a local run."""
        folder = self._ask(record, lambda b, name: b.job_dir(name))
        return None if folder is None else read_run_log(folder)


def read_run_log(folder: Path) -> RunLog:
    """Parse a local job folder: the event log's published shards, the shard
    records and the plan (for naming each shard's input)."""
    from batchspec.engine.jobdir import JobDir, parse_iso

    jd = JobDir(folder)
    log = RunLog(folder=str(folder))
    with contextlib.suppress(OSError, ValueError):
        log.started = parse_iso(jd.read_status().get("startTime"))
    done = 0
    with contextlib.suppress(OSError):
        text = (folder / "logs" / "events.log").read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            match = _PUBLISHED.match(line)
            if match is None:
                continue
            with contextlib.suppress(ValueError):
                at = parse_iso(match["at"])
                done += int(match["done"]) + int(match["failed"])
                if at is not None:
                    log.progress.append((at, done))
    log.shards = _shards(jd)
    return log


def _shards(jd: Any) -> list[ShardCount]:
    labels: dict[int, str] = {}
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        plan = jd.read_plan() or {}
        for i, shard in enumerate(plan.get("shards", [])):
            uri = str(shard.get("uri", ""))
            labels[i] = f"{i}: {uri.rsplit('/', 1)[-1]}"
            if shard.get("lines") is not None:
                labels[i] += f" from line {shard.get('first')}"
    out = []
    with contextlib.suppress(OSError, json.JSONDecodeError):
        for index, rec in sorted(jd.shard_records().items()):
            out.append(
                ShardCount(
                    index=index,
                    label=labels.get(index, str(index)),
                    completed=int(rec.get("completed", 0)),
                    failed=int(rec.get("failed", 0)),
                )
            )
    return out
