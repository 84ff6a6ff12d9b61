"""The Ray backend: jobs on a Ray cluster, through Ray's own Jobs API.

`submit` sends the job to the cluster's Jobs API (`JobSubmissionClient`) with
the entrypoint `python -m batchspec.raycluster`, which runs the local engine's
supervisor on the head node with a pool of Ray actors (see
`batchspec.raycluster`). What the client holds on to:

* **Identity.** The submission id derives from the fingerprint:
  `batchspec-<name>-<fingerprint[:12]>` (a rerun of a finished job adds
  `-2`, `-3`, ...). Ray refuses a second submission with the same id, so
  submitting is idempotent for free: an existing job is adopted, also after
  an ambiguous failure or a race with another submitter.
* **Remote names** are the job's URL on the Jobs API,
  `http://head:8265/api/jobs/<submission id>`, so `get` and `cancel` find the
  job whichever cluster it runs on; a bare submission id means the backend's
  default cluster.
* **States.** Ray's PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED map onto
  JobState (STOPPED is CANCELLED). The job's own outcome comes from the
  engine: the driver prints its status record into the job's log and exits
  with a code per state (`batchspec.raycluster.protocol`), so a job within
  its error budget is PARTIALLY_SUCCEEDED, and counts, the error and its hint
  are the engine's. A job whose driver was lost mid-run is PAUSED, as a local
  job whose supervisor died: submitting it again resumes it (a new attempt
  that reuses the published shards).
* **Cancel** is Ray's `stop_job`: the driver gets SIGTERM, kills its actors and
  records CANCELLED.
* **Logs** (`logs()`) are Ray's job logs: the driver's events and whatever the
  actors print.

Where the cluster is: the constructor's `address`, else the spec's
`ray.address`, else $BATCHSPEC_RAY_ADDRESS, else $RAY_ADDRESS. (Ray's own
client lets $RAY_ADDRESS override an explicit address; batchspec does not.)

batchspec's own package travels with every job (`py_modules`), so the cluster
runs the engine of the submitting batchspec. Its dependencies and the model's
libraries must be on the cluster, or listed in `ray.runtimeEnv.pip`. Paths in
the spec (inputs, outputs, model files) are read on the cluster: use paths
the cluster sees (a shared file system, `gs://`), or a local cluster.

Ray is an optional extra: without it every call says
`pip install 'batchspec[ray]'`.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import shlex
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec

import batchspec
from batchspec.backends.base import check_target
from batchspec.backends.rayjobs import (
    BACKEND_NAME,
    META_ATTEMPT,
    META_FINGERPRINT,
    META_NAME,
    META_OUTPUT,
    RAY_TERMINAL,
    map_state,
    remote_from_info,
    remote_name,
    split_remote_name,
    submission_id,
    translate,
    with_state,
)
from batchspec.engine.jobhome import job_record
from batchspec.errors import (
    BatchspecError,
    JobNotFoundError,
    PermanentBackendError,
    TemporaryBackendError,
)
from batchspec.model.enums import JobState, Target
from batchspec.model.jobs import LABEL_MANAGED_BY, CompiledJob, RemoteJob
from batchspec.raycluster.protocol import (
    ENTRYPOINT_MODULE,
    JOB_ENV,
    import_ray,
    last_status,
    without_status,
)

ADDRESS_ENV = ("BATCHSPEC_RAY_ADDRESS", "RAY_ADDRESS")
PYTHON_ENV = "BATCHSPEC_RAY_PYTHON"
CLUSTER_HOME_ENV = "BATCHSPEC_RAY_CLUSTER_HOME"
MAX_ATTEMPTS_PROBED = 100

# Ray's client reads these before its `address` argument; they are hidden
# while a client is built so that the address batchspec chose is the one used.
_RAY_OVERRIDES = ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS")
_ENV_LOCK = threading.Lock()

_CHATTY_LOGGERS = ("ray.dashboard.modules.dashboard_sdk", "ray._private.runtime_env.packaging")


def _import_client() -> Any:
    """Ray's `JobSubmissionClient`, or a clear error naming the extra."""
    jobs = import_ray(
        "ray.job_submission",
        PermanentBackendError,
        "the Ray target needs ray, which is not installed",
    )
    for name in _CHATTY_LOGGERS:  # "Uploading package ..." on every submit
        logging.getLogger(name).setLevel(logging.WARNING)
    return jobs.JobSubmissionClient


@contextlib.contextmanager
def _explicit_address() -> Iterator[None]:
    with _ENV_LOCK:
        saved = {k: os.environ.pop(k) for k in _RAY_OVERRIDES if k in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)


class RayBackend:
    """Runs jobs on Ray clusters through the Jobs API."""

    name = BACKEND_NAME

    def __init__(
        self,
        address: str | None = None,
        *,
        python: str | None = None,
        cluster_home: str | None = None,
        ship_package: bool = True,
    ) -> None:
        """`address`: the default cluster (else the spec's, else the environment's).
        `python`: the cluster's Python for the entrypoint (default `python`, or
        $BATCHSPEC_RAY_PYTHON). `cluster_home`: where job folders live on the head
        node (default the driver's ~/.batchspec/ray, or $BATCHSPEC_RAY_CLUSTER_HOME).
        `ship_package`: send this batchspec to the cluster with each job."""
        self.address = address
        self.python = python or os.environ.get(PYTHON_ENV) or "python"
        self.cluster_home = cluster_home or os.environ.get(CLUSTER_HOME_ENV)
        self.ship_package = ship_package
        self._clients: dict[str, Any] = {}

    # --- clusters ---------------------------------------------------------------------

    def default_address(self) -> str | None:
        """The constructor's address, else $BATCHSPEC_RAY_ADDRESS, else $RAY_ADDRESS."""
        if self.address:
            return self.address
        for name in ADDRESS_ENV:
            value = os.environ.get(name, "").strip()
            if value:
                return value
        return None

    def address_for(self, job: CompiledJob) -> str:
        """Where `job` runs: the constructor's address, the spec's, the environment's."""
        settings = job.effective.ray
        address = self.address or (settings.address if settings else None)
        address = address or self.default_address()
        if not address:
            raise PermanentBackendError(
                f"no Ray cluster address for job {job.name}",
                hint="set `ray.address` in the spec (e.g. http://head-node:8265), or"
                " BATCHSPEC_RAY_ADDRESS, or pass --address",
            )
        return address

    def _client(self, address: str | None) -> tuple[Any, str]:
        """(client, api_url) for a cluster, connecting on first use."""
        client_cls = _import_client()  # without Ray, say so before anything else
        address = address or self.default_address()
        if not address:
            raise PermanentBackendError(
                "no Ray cluster address",
                hint="pass --address, or set BATCHSPEC_RAY_ADDRESS (e.g. http://head-node:8265)",
            )
        cached = self._clients.get(address)
        if cached is not None:
            return cached, str(getattr(cached, "_address", address))
        try:
            with _explicit_address():
                client = client_cls(address)
        except ConnectionError as exc:
            raise TemporaryBackendError(
                f"cannot reach the Ray cluster at {address}: {exc}",
                hint="is the cluster running, and is this its dashboard address (port 8265 by"
                " default)? `ray start --head` starts one",
            ) from exc
        except BatchspecError:
            raise
        except Exception as exc:
            raise translate(exc, f"cannot use the Ray cluster at {address}") from exc
        self._clients[address] = client
        return client, str(getattr(client, "_address", address))

    def _info(self, client: Any, sid: str) -> Any | None:
        """The job's JobDetails, or None when the cluster has no such job."""
        try:
            return client.get_job_info(sid)
        except RuntimeError as exc:
            if "does not exist" in str(exc) or "status code 404" in str(exc):
                return None
            raise translate(exc, f"cannot read Ray job {sid}") from exc
        except Exception as exc:
            raise translate(exc, f"cannot read Ray job {sid}") from exc

    # --- the Protocol ------------------------------------------------------------------

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Create the job unless one with its fingerprint exists; return it.

        An existing job is adopted, except a PAUSED one (its driver was lost),
        which is submitted again as a new attempt that resumes from the shards
        already published."""
        return self._submit(job, rerun=False)

    def rerun(self, job: CompiledJob) -> RemoteJob:
        """`submit`, except that a finished job runs again from scratch, as a new attempt."""
        return self._submit(job, rerun=True)

    def _submit(self, job: CompiledJob, *, rerun: bool) -> RemoteJob:
        check_target(job, Target.RAY, "Ray")
        _import_client()
        record = job_record(job)  # refuses what the engine can never run, like a 400
        client, api_url = self._client(self.address_for(job))
        latest, info = self._latest_attempt(client, job)
        fresh = False
        if info is not None:
            current = self._remote(
                api_url, submission_id(job, latest), info, with_logs=True, client=client
            )
            fresh = rerun and current.terminal
            if not (fresh or current.state is JobState.PAUSED):
                return current  # adopt it
        attempt = latest + 1  # a first attempt, a resumed one, or a rerun
        sid = submission_id(job, attempt)
        try:
            client.submit_job(
                entrypoint=self._entrypoint(rerun=fresh),
                submission_id=sid,
                runtime_env=self._runtime_env(job, record),
                metadata=self._metadata(job, record, attempt),
            )
        except Exception as exc:
            if "already exists" not in str(exc):  # else: created meanwhile: adopt it
                found = self._info(client, sid)  # an ambiguous failure: look before retrying
                if found is None:
                    raise translate(exc, f"cannot submit job {job.name} to Ray") from exc
        return self.get(remote_name(api_url, sid))

    def _latest_attempt(self, client: Any, job: CompiledJob) -> tuple[int, Any | None]:
        """(number, JobDetails) of the job's latest attempt, (0, None) when none."""
        found: tuple[int, Any | None] = (0, None)
        for attempt in range(1, MAX_ATTEMPTS_PROBED + 1):
            info = self._info(client, submission_id(job, attempt))
            if info is None:
                return found
            found = (attempt, info)
        return found

    def get(self, remote_name: str) -> RemoteJob:
        """The job's current state, with the engine's counts and outcome."""
        address, sid = split_remote_name(remote_name)
        client, api_url = self._client(address)
        info = self._info(client, sid)
        if info is None:
            raise JobNotFoundError(
                f"the Ray cluster at {api_url} has no job {sid!r}",
                hint="Ray forgets jobs when its cluster restarts; submit the spec again",
            )
        return self._remote(api_url, sid, info, with_logs=True, client=client)

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        """batchspec's jobs on the default cluster whose labels include `selector`,
        oldest first: one call (states come from Ray's status and the driver's
        exit code; `get` adds counts)."""
        client, api_url = self._client(None)
        try:
            jobs = client.list_jobs()
        except Exception as exc:
            raise translate(exc, "cannot list Ray jobs") from exc
        wanted = dict(selector or {})
        mine = []
        for info in jobs:
            meta = info.metadata or {}
            if meta.get(LABEL_MANAGED_BY) != "batchspec" or not info.submission_id:
                continue
            if all(meta.get(k) == v for k, v in wanted.items()):
                mine.append(info)
        mine.sort(key=lambda i: (i.start_time or 0, i.submission_id))
        for info in mine:
            yield self._remote(api_url, info.submission_id, info)

    def cancel(self, remote_name: str) -> RemoteJob:
        """Stop the job (Ray's `stop_job`); CANCELLING until the driver has gone."""
        address, sid = split_remote_name(remote_name)
        client, api_url = self._client(address)
        info = self._info(client, sid)
        if info is None:
            raise JobNotFoundError(f"the Ray cluster at {api_url} has no job {sid!r}")
        if str(info.status) in RAY_TERMINAL:
            return self._remote(api_url, sid, info, with_logs=True, client=client)
        try:
            client.stop_job(sid)
        except Exception as exc:
            raise translate(exc, f"cannot stop Ray job {sid}") from exc
        job = self.get(remote_name)
        if not job.terminal:
            job = with_state(job, JobState.CANCELLING)
        return job

    def outputs(self, remote_name: str) -> builtins.list[str]:
        """The result and error files the job published (known once it ends)."""
        status = self.details(remote_name)
        return [str(f) for f in status.get("outputFiles") or []]

    # --- capabilities (see batchspec.backends.base) -----------------------------------------

    def logs(self, remote_name: str) -> str:
        """The job's log on the cluster: the driver's events and the actors' output."""
        address, sid = split_remote_name(remote_name)
        client, _ = self._client(address)
        return without_status(self._logs(client, sid))

    def details(self, remote_name: str) -> dict[str, Any]:
        """The engine's last status record (state, counts, error with its hint)."""
        address, sid = split_remote_name(remote_name)
        client, _ = self._client(address)
        return last_status(self._logs(client, sid)) or {}

    def find(self, job: CompiledJob) -> RemoteJob | None:
        """`job`'s latest attempt on its cluster, or None when never submitted
        (probing submission ids: Ray lists jobs without their labels' filter)."""
        client, api_url = self._client(self.address_for(job))
        attempt, info = self._latest_attempt(client, job)
        if info is None:
            return None
        sid = submission_id(job, attempt)
        return self._remote(api_url, sid, info, with_logs=True, client=client)

    # --- internals ------------------------------------------------------------------------

    def _logs(self, client: Any, sid: str) -> str:
        try:
            return str(client.get_job_logs(sid))
        except RuntimeError as exc:
            if "does not exist" in str(exc) or "status code 404" in str(exc):
                raise JobNotFoundError(f"the Ray cluster has no job {sid!r}") from exc
            raise translate(exc, f"cannot read the log of Ray job {sid}") from exc
        except Exception as exc:
            raise translate(exc, f"cannot read the log of Ray job {sid}") from exc

    def _entrypoint(self, *, rerun: bool) -> str:
        parts = [self.python, "-m", ENTRYPOINT_MODULE]
        if self.cluster_home:
            parts += ["--home", self.cluster_home]
        if rerun:
            parts.append("--rerun")
        return shlex.join(parts)

    def _runtime_env(self, job: CompiledJob, record: dict[str, Any]) -> dict[str, Any]:
        """The spec's runtime environment plus batchspec's package and the job record."""
        settings = job.effective.ray
        env: dict[str, Any] = dict(settings.runtime_env or {}) if settings else {}
        working_dir = env.get("working_dir")
        if isinstance(working_dir, str) and "://" not in working_dir:
            env["working_dir"] = str(Path(record["specDir"]) / working_dir)
        if self.ship_package:
            package = str(Path(batchspec.__file__).resolve().parent)
            env["py_modules"] = [*env.get("py_modules", []), package]
        from batchspec.secrets import resolve

        env["env_vars"] = {
            **resolve(dict(env.get("env_vars") or {})),  # `${env:NAME}` on the submitting side
            JOB_ENV: msgspec.json.encode(record).decode(),
        }
        return env

    def _metadata(self, job: CompiledJob, record: dict[str, Any], attempt: int) -> dict[str, str]:
        return {
            **{str(k): str(v) for k, v in job.labels.items()},
            META_NAME: job.name,
            META_FINGERPRINT: job.fingerprint,
            META_ATTEMPT: str(attempt),
            META_OUTPUT: str(record["output"]),
        }

    def _remote(
        self,
        api_url: str,
        sid: str,
        info: Any,
        *,
        with_logs: bool = False,
        client: Any = None,
    ) -> RemoteJob:
        status: dict[str, Any] | None = None
        if with_logs and str(info.status) != "PENDING":
            status = last_status(self._logs(client, sid))
        return remote_from_info(api_url, sid, info, status)


__all__ = ["RayBackend", "map_state", "remote_name", "split_remote_name", "submission_id"]
