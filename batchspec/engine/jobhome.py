"""The folder of job folders: where jobs are created, adopted and set aside.

    <jobs>/<name>-<fingerprint[:12]>/   one `JobDir` per job
    <jobs>/.history/<id>-<time>-<rand>/ finished jobs set aside by a rerun

This is the engine's side of "a job is a resource": a job record
(`job_record`) becomes a folder exactly once, however many submitters race
for it (the folder is built under a temporary name and renamed into place),
and a second submit of the same fingerprint finds the existing folder. The
local backend (a detached supervisor per job) and the Ray entrypoint (the
supervisor on the cluster's head node) both keep their jobs here, so the
job-folder rules live in one place below both of them.
"""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchspec.engine.fileio import write_json_atomic
from batchspec.engine.job import EngineJob, spec_dir_of
from batchspec.engine.jobdir import JobDir, now_iso
from batchspec.errors import BatchspecError, PermanentBackendError
from batchspec.model.enums import JobState
from batchspec.model.jobs import CompiledJob
from batchspec.state.redact import marked_keys

HISTORY = ".history"


def job_id(job: CompiledJob) -> str:
    """`<name>-<fingerprint[:12]>`: readable, and derived from the fingerprint."""
    return f"{job.name}-{job.fingerprint[:12]}"


def job_record(job: CompiledJob) -> dict[str, Any]:
    """The job.json record of `job`: what to run and where its paths start.

    Raises `PermanentBackendError` for what the engine can never run (like a
    service's 400), so it is refused before anything is created."""
    record = {
        "id": job_id(job),
        "name": job.name,
        "fingerprint": job.fingerprint,
        "labels": dict(job.labels),
        "body": dict(job.body),
        "source": str(job.source) if job.source else None,
        "specDir": str(spec_dir_of(job.source)),
        "createTime": now_iso(),
        "secretKeys": list(marked_keys(job.spec)),
    }
    try:
        engine_job = EngineJob.from_record(record)
    except BatchspecError as exc:
        raise PermanentBackendError(exc.message, hint=exc.hint) from exc
    record["output"] = engine_job.output
    return record


class JobHome:
    """Job folders under one directory (`<home>/jobs` for the local backend)."""

    def __init__(self, jobs: Path) -> None:
        self.jobs = jobs

    def folder(self, job_id: str) -> JobDir:
        """The folder a job with this id has (or would have)."""
        return JobDir(self.jobs / job_id)

    def folders(self) -> list[JobDir]:
        """Every complete job folder (not the history, not half-created ones)."""
        if not self.jobs.is_dir():
            return []
        found = (JobDir(p) for p in self.jobs.iterdir() if not p.name.startswith("."))
        return [jd for jd in found if jd.exists()]

    def ensure(self, record: dict[str, Any], *, rerun: bool = False) -> tuple[JobDir, bool]:
        """The folder of the job `record` describes (see `job_record`), created
        or adopted, and whether it needs a supervisor started: true for a new
        folder and for an unfinished job nobody runs. With `rerun` a finished
        job is set aside first and the same record starts afresh."""
        jd = self.folder(record["id"])
        if jd.exists():
            existing = jd.read_job()
            if existing.get("fingerprint") != record["fingerprint"]:
                raise PermanentBackendError(
                    f"job folder {jd.path} belongs to another fingerprint",
                    hint="remove the folder; two fingerprints share a 12-digit prefix",
                )
            state = JobState(jd.read_status().get("state", JobState.QUEUED))
            if not (state.terminal and rerun):
                idle = not state.terminal and not jd.supervisor_alive() and not jd.launching()
                return jd, idle
            self._archive(jd)
        self._create(jd, record)
        return jd, True

    def _create(self, jd: JobDir, record: dict[str, Any]) -> None:
        self.jobs.mkdir(parents=True, exist_ok=True)
        tmp = self.jobs / f".creating-{jd.id}-{secrets.token_hex(4)}"
        tmp.mkdir()
        JobDir(tmp).write_job(record)  # redacted, mode 0600
        write_json_atomic(
            tmp / "status.json",
            {
                "state": JobState.QUEUED.value,
                "createTime": record["createTime"],
                "updateTime": record["createTime"],
                "completedCount": 0,
                "failedCount": 0,
                "outputLocation": record["output"],
            },
        )
        try:
            os.rename(tmp, jd.path)
        except OSError:  # created meanwhile by a concurrent submit: adopt it
            shutil.rmtree(tmp, ignore_errors=True)
            if not jd.exists():
                raise

    def _archive(self, jd: JobDir) -> None:
        history = self.jobs / HISTORY
        history.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        os.rename(jd.path, history / f"{jd.id}-{stamp}-{secrets.token_hex(2)}")
