"""The local backend: jobs on this machine, run by the embedded engine.

A job here behaves like one on a service. `submit` creates a job folder keyed
by the compiled job's fingerprint and starts a detached supervisor process
that survives the command that submitted it; submitting the same fingerprint
again adopts the existing job (and restarts its supervisor if it died, which
resumes from the published shards). `get` reads the durable status; a job
whose supervisor is gone while not finished is reported PAUSED (not terminal:
submit it again to resume). `cancel` asks the supervisor to stop, or marks a
job without a live supervisor CANCELLED directly.

Jobs live under `<home>/jobs/`, where home is the constructor argument, else
$BATCHSPEC_HOME, else `.batchspec` in the working directory (next to the
controller's state database).
"""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import batchspec
from batchspec.backends.base import check_target
from batchspec.engine.job import EngineJob
from batchspec.engine.jobdir import JobDir, now_iso, parse_iso
from batchspec.engine.jobhome import JobHome, job_id, job_record
from batchspec.engine.stores import make_store
from batchspec.errors import JobNotFoundError
from batchspec.model.enums import JobState, Target
from batchspec.model.jobs import CompiledJob, RemoteJob

__all__ = ["BACKEND_NAME", "LocalBackend", "default_home", "job_id", "job_record"]

BACKEND_NAME = "local"
STALE_HEARTBEAT_SECONDS = 30.0


def default_home() -> Path:
    """$BATCHSPEC_HOME or ./.batchspec."""
    return Path(os.environ.get("BATCHSPEC_HOME") or ".batchspec")


class LocalBackend:
    """Runs jobs on this machine, one detached supervisor per job."""

    name = BACKEND_NAME

    def __init__(self, home: Path | str | None = None, *, python: str | None = None) -> None:
        self.home = Path(home).resolve() if home is not None else default_home().resolve()
        self.jobs = self.home / "jobs"
        self.folders = JobHome(self.jobs)
        self.python = python or sys.executable

    # --- the Protocol ----------------------------------------------------------------

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Create the job unless one with its fingerprint exists; return it.

        An existing job is adopted as it is; one whose supervisor died before
        the end is resumed.
        """
        return self._submit(job, rerun=False)

    def rerun(self, job: CompiledJob) -> RemoteJob:
        """`submit`, except that a finished job of this revision is set aside
        (kept under `jobs/.history/`) and the same spec starts afresh."""
        return self._submit(job, rerun=True)

    def _submit(self, job: CompiledJob, *, rerun: bool) -> RemoteJob:
        check_target(job, Target.LOCAL, self.name)
        jd, start = self._ensure(job, rerun=rerun)
        if start:
            self._start(jd)
        return self._remote(jd)

    def _ensure(self, job: CompiledJob, *, rerun: bool) -> tuple[JobDir, bool]:
        """The job's folder (created if needed) and whether it needs a supervisor."""
        return self.folders.ensure(job_record(job), rerun=rerun)

    def get(self, remote_name: str) -> RemoteJob:
        """The job's current state."""
        return self._remote(self._dir(remote_name))

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        """Jobs whose labels include every item of `selector`, oldest first."""
        wanted = dict(selector or {})
        records = []
        for jd in self.folders.folders():
            rec = jd.read_job()
            labels = rec.get("labels", {})
            if all(labels.get(k) == v for k, v in wanted.items()):
                records.append((rec.get("createTime", ""), jd.id, jd))
        for _, _, jd in sorted(records):
            yield self._remote(jd)

    def cancel(self, remote_name: str) -> RemoteJob:
        """Ask the job to stop. A job with no live supervisor is CANCELLED at once."""
        jd = self._dir(remote_name)
        status = jd.read_status()
        if JobState(status.get("state", JobState.QUEUED)).terminal:
            return self._remote(jd)
        jd.request_cancel()
        with jd.lock(wait=0.0) as fd:
            if fd is not None:  # nobody is running it: cancel it ourselves
                jd.update_status(state=JobState.CANCELLED.value, endTime=now_iso())
        return self._remote(jd)

    def outputs(self, remote_name: str) -> builtins.list[str]:
        """The published result and error files, in name order; for a BigQuery
        destination, its tables once loaded (predictions, then errors)."""
        jd = self._dir(remote_name)
        store = make_store(EngineJob.from_record(jd.read_job()), jd.path)
        names = []
        for shard in jd.shard_records().values():
            names.extend([shard["results"]["name"], shard["errors"]["name"]])
        return store.outputs(sorted(names))

    # --- capabilities (see batchspec.backends.base) -----------------------------------------

    def find(self, job: CompiledJob) -> RemoteJob | None:
        """The job of this revision, from its folder (None when never submitted)."""
        jd = self.folders.folder(job_id(job))
        return self._remote(jd) if jd.exists() else None

    def logs(self, remote_name: str) -> str:
        """The job's events log (shards published, workers lost, the end state)."""
        path = self._dir(remote_name).logs / "events.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def job_dir(self, remote_name: str) -> Path:
        """The job's folder (status, plan, logs)."""
        return self._dir(remote_name).path

    def details(self, remote_name: str) -> dict[str, Any]:
        """The raw status record (with the error hint, shard counts, memory)."""
        return self._dir(remote_name).read_status()

    def resume(self, remote_name: str) -> RemoteJob:
        """Restart the supervisor of an unfinished job whose supervisor is gone."""
        jd = self._dir(remote_name)
        state = JobState(jd.read_status().get("state", JobState.QUEUED))
        if not state.terminal and not jd.supervisor_alive() and not jd.launching():
            self._start(jd)
        return self._remote(jd)

    def run_inline(
        self, job: CompiledJob, *, rerun: bool = False, max_workers: int | None = None
    ) -> RemoteJob:
        """Submit and run the job's supervisor in this process, to the end.

        The same job folder and guarantees as `submit`, without the detached
        process: for tests, benchmarks and embedding. Workers are still
        separate processes (at most `max_workers` when given).
        """
        from batchspec.engine.supervisor import supervise

        check_target(job, Target.LOCAL, self.name)
        jd, _ = self._ensure(job, rerun=rerun)
        supervise(jd.path, max_workers=max_workers)
        return self._remote(jd)

    # --- internals ------------------------------------------------------------------------

    def _dir(self, remote_name: str) -> JobDir:
        if "/" in remote_name or remote_name.startswith("."):
            raise JobNotFoundError(f"no local job named {remote_name!r}")
        jd = self.folders.folder(remote_name)
        if not jd.exists():
            raise JobNotFoundError(
                f"no local job named {remote_name!r} in {self.jobs}",
                hint="list jobs with the local backend's list(), or check BATCHSPEC_HOME",
            )
        return jd

    def _start(self, jd: JobDir) -> None:
        """Start a detached supervisor (its own session: it outlives us)."""
        package_root = str(Path(batchspec.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        with open(jd.logs / "supervisor.log", "ab") as log:
            proc = subprocess.Popen(
                [self.python, "-m", "batchspec.engine.supervisor", str(jd.path)],
                cwd=jd.path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        jd.write_launch(proc.pid)

    def _remote(self, jd: JobDir) -> RemoteJob:
        rec = jd.read_job()
        st = jd.read_status()
        state = JobState(st.get("state", JobState.QUEUED))
        error_info = st.get("error") or {}
        error = error_info.get("message")
        if not state.terminal:
            if not jd.supervisor_alive() and not jd.launching():
                shards = len(jd.shard_records())
                error = (
                    f"the job's supervisor is not running (last heard of at"
                    f" {st.get('updateTime')}); submit the job again to resume from its"
                    f" {shards} published shard(s)"
                )
                state = JobState.PAUSED
            elif jd.cancel_requested():
                state = JobState.CANCELLING
            else:
                beat = parse_iso(st.get("updateTime"))
                age = (datetime.now(UTC) - beat).total_seconds() if beat else 0.0
                if age > STALE_HEARTBEAT_SECONDS:
                    error = f"the job's supervisor has not reported for {age:.0f}s"
        return RemoteJob(
            backend=BACKEND_NAME,
            remote_name=jd.id,
            job_name=rec["name"],
            fingerprint=rec["fingerprint"],
            state=state,
            labels=rec.get("labels", {}),
            create_time=parse_iso(rec.get("createTime")),
            start_time=parse_iso(st.get("startTime")),
            end_time=parse_iso(st.get("endTime")),
            completed_count=int(st.get("completedCount") or 0),
            failed_count=int(st.get("failedCount") or 0),
            total_count=st.get("totalCount"),
            output_location=st.get("outputLocation") or rec.get("output"),
            error=error,
        )
