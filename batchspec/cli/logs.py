"""`batchspec logs JOB|SPEC`: a job's log, wherever it ran.

JOB is a spec name or #ID recorded in state, or a remote job name (a local
job id, `projects/P/locations/L/batchPredictionJobs/ID`, `projects/P/jobs/ID`);
SPEC is a spec file, whose job is found for its own target.

* local engine: the events log of the job's folder;
* Ray: the log Ray keeps for the job (the driver's events, what actors print);
* Vertex AI, google-genai and Cloud ML Engine: the job's entries in Cloud
  Logging (see `batchspec.backends.cloudlogs` for the filter and its source).

`--follow` keeps printing until the job ends. `-o json` prints one JSON
object per line: {timestamp, severity, source, message}.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json_line, wants_json

if TYPE_CHECKING:
    from batchspec.backends.cloudlogs import LogEntry

FOLLOW_POLL = 1.0
CLOUD_TARGETS = {"vertex", "genai", "mlengine"}
_CLOUD_NAME = re.compile(r"^projects/[^/]+/(locations/[^/]+/batchPredictionJobs|jobs)/[^/]+$")
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:?\d\d)?) (.*)$")


class Source:
    """Where a job's lines come from: `read()` gives the lines not shown yet,
    `ended()` whether the job can write no more."""

    def __init__(self, read: Callable[[bool], list[LogEntry]], ended: Callable[[], bool]) -> None:
        self.read = read
        self.ended = ended


def run(args: argparse.Namespace) -> int:
    """Print the log (and follow it)."""
    source = _source(args)
    if source is None:
        return 1
    show: Callable[[LogEntry], None] = (
        (lambda e: emit_json_line(e.to_dict()))
        if wants_json(args)
        else (lambda e: _write(e.text()))
    )
    while True:
        ended = not args.follow or source.ended()
        for entry in source.read(ended):
            show(entry)
        if ended:
            return 0
        time.sleep(FOLLOW_POLL)


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _source(args: argparse.Namespace) -> Source | None:
    ref = args.ref
    if ref.endswith((".yaml", ".yml")) or Path(ref).is_file():
        return _spec_source(args)
    with rt.open_state(args, create=False) as store:
        record = store.find_job(ref)
    if record is not None:
        from batchspec.errors import StateError

        if not record.remote_name:
            raise StateError(
                f"job {record.name!r} was never confirmed submitted; it has no log yet",
                hint="`batchspec apply` resolves the interrupted submit first",
            )
        return _backend_source(rt.registry()(record.backend), record.remote_name)
    if _CLOUD_NAME.match(ref):
        backend = "mlengine" if "/jobs/" in ref else "vertex"
        return _backend_source(rt.registry()(backend), ref)
    from batchspec.backends.local import LocalBackend

    return _backend_source(LocalBackend(args.home), ref, unknown=ref)


def _spec_source(args: argparse.Namespace) -> Source | None:
    """A spec file: local and Ray jobs by their compiled job, cloud jobs by
    the spec's name in state (compiled for the spec's own target)."""
    from batchspec.cli.run import choose_target, compile_one, make_backend, remote_name_of
    from batchspec.model.enums import Target

    def target(spec_target: str) -> Target:
        if spec_target in CLOUD_TARGETS and not args.target:
            return Target(spec_target)
        return choose_target(args, spec_target)

    job = compile_one(args, _stderr_console(), choose=target)
    if job is None:
        return None
    if job.target.value not in CLOUD_TARGETS:
        backend = make_backend(args, job)
        return _backend_source(backend, remote_name_of(backend, job))
    from batchspec.errors import StateError

    with rt.open_state(args, create=False) as store:
        record = store.find_job(job.name)
    if record is None or not record.remote_name:
        raise StateError(
            f"no submitted job for {job.name!r} in state {store.path or '(none yet)'}",
            hint="`batchspec apply` submits it; `batchspec status` lists recorded jobs",
        )
    return _backend_source(rt.registry()(record.backend), record.remote_name)


def _stderr_console() -> Any:
    """Diagnostics of a spec that does not compile go to stderr."""
    from batchspec.cli._output import console

    return console(stderr=True)


def _backend_source(backend: Any, remote_name: str, *, unknown: str | None = None) -> Source:
    from batchspec.errors import JobNotFoundError, StateError

    def ended() -> bool:
        return bool(backend.get(remote_name).terminal)

    if unknown is not None:
        try:
            backend.get(remote_name)
        except JobNotFoundError:
            raise StateError(
                f"no job {unknown!r}: not recorded in state and no local job has that id",
                hint="`batchspec status --all` lists recorded jobs; a spec file works too",
            ) from None
    if backend.name in CLOUD_TARGETS:
        return _cloud_source(backend, remote_name, ended)
    from batchspec.backends.base import HasLogs
    from batchspec.errors import BatchspecError

    if not isinstance(backend, HasLogs):
        raise BatchspecError(f"the {backend.name} backend keeps no log for its jobs")
    return _text_source(lambda: backend.logs(remote_name), ended)


def _text_source(read_all: Callable[[], str], ended: Callable[[], bool]) -> Source:
    """A log kept as one growing text: the complete lines not shown yet."""
    shown = [0]

    def read(final: bool) -> list[LogEntry]:
        text = read_all()
        end = len(text) if final else text.rfind("\n") + 1
        fresh, shown[0] = text[shown[0] : end], max(shown[0], end)
        return [_line(line) for line in fresh.splitlines() if line.strip()]

    return Source(read, ended)


def _line(line: str) -> LogEntry:
    from batchspec.backends.cloudlogs import LogEntry

    match = _STAMP.match(line)
    if match:
        return LogEntry(timestamp=match.group(1), severity=None, message=match.group(2))
    return LogEntry(timestamp=None, severity=None, message=line)


def _cloud_source(backend: Any, remote_name: str, ended: Callable[[], bool]) -> Source:
    """Cloud Logging entries, each once, newest last."""
    from batchspec.backends.cloudlogs import CloudLogReader, job_location, stamp

    project, job_id = job_location(remote_name)
    reader = CloudLogReader(project, credentials=getattr(backend, "credentials", None))
    created = backend.get(remote_name).create_time
    last: list[str | None] = [stamp(created) if created else None]
    seen: set[str] = set()

    def read(final: bool) -> list[LogEntry]:
        fresh = []
        for entry in reader.entries(job_id, after=last[0]):
            key = entry.insert_id or f"{entry.timestamp}|{entry.message}"
            if key in seen:
                continue
            seen.add(key)
            fresh.append(entry)
            last[0] = entry.timestamp or last[0]
        return fresh

    return Source(read, ended)
