"""Cloud ML Engine (`ml` v1) batch prediction, through google-api-python-client.

**The service was shut down on 2025-01-31.** The backend stays for the record
and so migrated specs (`batchspec import` of old `gcloud ml-engine jobs submit
prediction` scripts) can be exercised end to end against a double; new work
belongs on Vertex AI.

Here the job id is the idempotency key, enforced by the service: the id is
`<name>_<12 hex of the fingerprint>` (`compile.identity.mlengine_job_id`), so
a repeated create of the same revision gets HTTP 409. `submit` then reads the
existing job and checks its fingerprint label: the same fingerprint means
adopt it; a different one (a 12-digit prefix collision, or someone else's job
under that id) means try the next attempt id (`..._r1`, `..._r2`, ...), whose
own 409 is checked the same way. Timeouts and dropped connections on create
are therefore harmless: the retry gets 409 and adopts.

`submit` (all its attempt ids), `cancel`, `get` and each page of `list` are
one operation each of `batchspec.retry`'s loop. Jobs are reached in the
project their name says; `api_endpoint` (or `BATCHSPEC_MLENGINE_ENDPOINT`)
overrides the endpoint. The discovery document is the one shipped in the
wheel (`static_discovery`), so building the client needs no network.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator, Mapping
from typing import Any

from batchspec.backends.cloud import (
    MLENGINE_ENDPOINT_ENV,
    Location,
    as_int,
    choose_adopted,
    label_filter,
    matches,
    parse_time,
    resolve_location,
    setting,
    split_name,
)
from batchspec.backends.google_errors import (
    CallContext,
    ServiceCaller,
    classify,
    describe,
    translating,
    with_context,
)
from batchspec.compile.fingerprint import fingerprint_label
from batchspec.compile.identity import JOB_ID_FINGERPRINT_DIGITS, mlengine_job_id
from batchspec.errors import BackendError, PermanentBackendError
from batchspec.model.enums import JobState, Target
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_JOB, CompiledJob, RemoteJob
from batchspec.retry import RandomSource, RetryClock, RetryPolicy

API_HOST = "ml.googleapis.com"
ROLE = "roles/ml.developer"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
DEFAULT_TIMEOUT = 60.0
DEFAULT_PAGE_SIZE = 100
MAX_ID_ATTEMPTS = 5

STATES = {
    "STATE_UNSPECIFIED": JobState.UNSPECIFIED,
    "QUEUED": JobState.QUEUED,
    "PREPARING": JobState.PENDING,
    "RUNNING": JobState.RUNNING,
    "SUCCEEDED": JobState.SUCCEEDED,
    "FAILED": JobState.FAILED,
    "CANCELLING": JobState.CANCELLING,
    "CANCELLED": JobState.CANCELLED,
}
_DERIVED_ID = re.compile(rf"^(?P<name>.+)_[0-9a-f]{{{JOB_ID_FINGERPRINT_DIGITS}}}(?:_r\d+)?$")


def mlengine_state(value: Any) -> JobState:
    """An ML Engine job state; unknown values are UNSPECIFIED (watched, not terminal)."""
    return STATES.get(str(value or "STATE_UNSPECIFIED"), JobState.UNSPECIFIED)


def spec_name(job_id: str, labels: Mapping[str, str]) -> str:
    """The spec name behind a derived job id (`census_57549016ab52_r1` -> `census`)."""
    found = _DERIVED_ID.match(job_id)
    if found:
        return found.group("name")
    return labels.get(LABEL_JOB) or job_id


def remote_from_mlengine(backend: str, project: str, data: Mapping[str, Any]) -> RemoteJob:
    """An ML Engine Job (REST JSON) as a RemoteJob."""
    labels = {str(k): str(v) for k, v in (data.get("labels") or {}).items()}
    job_id = str(data.get("jobId", ""))
    output = data.get("predictionOutput") or {}
    prediction = data.get("predictionInput") or {}
    done, failed = as_int(output.get("predictionCount")), as_int(output.get("errorCount"))
    return RemoteJob(
        backend=backend,
        remote_name=f"projects/{project}/jobs/{job_id}",
        job_name=spec_name(job_id, labels),
        fingerprint=labels.get(LABEL_FINGERPRINT),
        state=mlengine_state(data.get("state")),
        labels=labels,
        create_time=parse_time(data.get("createTime")),
        start_time=parse_time(data.get("startTime")),
        end_time=parse_time(data.get("endTime")),
        completed_count=done,
        failed_count=failed,
        total_count=(done + failed) if output else None,
        output_location=output.get("outputPath") or prediction.get("outputPath"),
        error=data.get("errorMessage") or None,
    )


class MLEngineBackend:
    """`ml.projects.jobs` (v1), prediction jobs only."""

    name = "mlengine"
    service = "Cloud ML Engine"

    def __init__(
        self,
        project: str | None = None,
        region: str | None = None,
        *,
        credentials: Any = None,
        api_endpoint: str | None = None,
        retry: RetryPolicy | None = None,
        clock: RetryClock | None = None,
        rng: RandomSource | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.location: Location = resolve_location(project, region, env)
        self.credentials = credentials
        self.api_endpoint = setting(api_endpoint, MLENGINE_ENDPOINT_ENV, env)
        self.retry = retry or RetryPolicy()
        self.calls = ServiceCaller(self.retry, clock, rng)
        self.timeout = timeout
        self.page_size = page_size
        self._service: Any = None

    def _jobs(self) -> Any:
        """The `projects().jobs()` collection, built on first use."""
        if self._service is None:
            import google_auth_httplib2
            import httplib2
            from googleapiclient import discovery

            credentials = self.credentials
            if credentials is None:
                import google.auth

                credentials, _ = google.auth.default(scopes=list(SCOPES))
            http = google_auth_httplib2.AuthorizedHttp(
                credentials, http=httplib2.Http(timeout=self.timeout)
            )
            options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
            self._service = discovery.build(
                "ml",
                "v1",
                http=http,
                static_discovery=True,
                cache_discovery=False,
                client_options=options,
            )
        return self._service.projects().jobs()

    def _project(self, name: str) -> str:
        """The project a job (or parent) names, else the configured one."""
        project = split_name(name).get("projects") or self.location.project
        if not project:
            raise PermanentBackendError(
                f"{self.service}: {name!r} names no project and none is configured",
                hint="set `project:` in the spec, or BATCHSPEC_PROJECT",
            )
        return project

    def _ctx(self, action: str, project: str, **flags: bool) -> CallContext:
        return with_context(
            CallContext(self.service, action, API_HOST, ROLE, project, self.location.region),
            **flags,
        )

    # --- the Backend protocol -------------------------------------------------------------

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Create the job under its derived id; 409 with our fingerprint adopts it."""
        if job.target is not Target.MLENGINE or job.parent is None:
            raise PermanentBackendError(
                f"{job.name} is compiled for {job.target.value}, not mlengine",
                hint="compile it with target=mlengine",
            )
        project = self._project(job.parent)
        fp = job.labels.get(LABEL_FINGERPRINT) or fingerprint_label(job.fingerprint)
        # One operation: a retry after a lost answer starts again from the first id,
        # whose 409 adopts (or moves on) as before.
        return self.calls.run(lambda: self._submit_once(project, job, fp))

    def _submit_once(self, project: str, job: CompiledJob, fp: str) -> RemoteJob:
        taken: builtins.list[str] = []
        for attempt in range(MAX_ID_ATTEMPTS):
            job_id = mlengine_job_id(job.name, job.fingerprint, attempt)
            found = self._create_or_adopt(project, job, job_id, fp)
            if found is not None:
                return found
            taken.append(job_id)
        raise PermanentBackendError(
            f"ML Engine job ids {', '.join(taken)} all belong to other jobs",
            hint="rename the spec (metadata.name) so its job ids are new",
        )

    def _create_or_adopt(
        self, project: str, job: CompiledJob, job_id: str, fp: str
    ) -> RemoteJob | None:
        """The job under `job_id`: created, or adopted on 409 when it is ours;
        None when the id is taken by a job with another fingerprint."""
        from batchspec.secrets import resolve

        body = {**resolve(dict(job.body)), "jobId": job_id}  # `${env:NAME}`: on the way out
        parent = f"projects/{project}"
        try:
            created = self._jobs().create(parent=parent, body=body).execute(num_retries=0)
        except BackendError:
            raise
        except Exception as exc:  # 409 handled; the rest translated
            failure = describe(exc)
            if failure is not None and failure.status == 409:
                existing = self.get(f"{parent}/jobs/{job_id}")
                return existing if existing.fingerprint == fp else None
            raise classify(exc, self._ctx(f"create job {job_id}", project, create=True)) from exc
        return remote_from_mlengine(self.name, project, created)

    def get(self, remote_name: str) -> RemoteJob:
        """The job's current state (JobNotFoundError when there is none)."""
        project = self._project(remote_name)
        ctx = self._ctx(f"get {remote_name}", project, job_read=True)
        found = self.calls.call(
            lambda: self._jobs().get(name=remote_name).execute(num_retries=0), ctx
        )
        return remote_from_mlengine(self.name, project, found)

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        """Jobs in the configured project whose labels include `selector`, one call
        per page (PermanentBackendError at once when no project is configured)."""
        project, _ = self.location.require(self.service, region=False)
        return self._pages(project, selector)

    def _pages(self, project: str, selector: Mapping[str, str] | None) -> Iterator[RemoteJob]:
        ctx = self._ctx("list jobs", project)
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"parent": f"projects/{project}", "pageSize": self.page_size}
            query = label_filter(selector)
            if query:
                kwargs["filter"] = query
            if token:
                kwargs["pageToken"] = token

            def fetch(kwargs: dict[str, Any] = kwargs) -> Any:
                return self._jobs().list(**kwargs).execute(num_retries=0)

            page = self.calls.call(fetch, ctx)
            for item in page.get("jobs", []):
                remote = remote_from_mlengine(self.name, project, item)
                if matches(remote.labels, selector):
                    yield remote
            token = page.get("nextPageToken")
            if not token:
                return

    def find(self, fingerprint: str) -> RemoteJob | None:
        """The job carrying `fingerprint` (for callers that lost the job id)."""
        selector = {LABEL_FINGERPRINT: fingerprint_label(fingerprint)}
        return choose_adopted(self.list(selector))

    def cancel(self, remote_name: str) -> RemoteJob:
        """Ask a running job to stop; a finished job is returned as it is."""
        return self.calls.run(lambda: self._cancel_once(remote_name))

    def _cancel_once(self, remote_name: str) -> RemoteJob:
        current = self.get(remote_name)
        if current.terminal:
            return current
        ctx = self._ctx(f"cancel {remote_name}", self._project(remote_name), job_read=True)
        try:
            translating(
                lambda: self._jobs().cancel(name=remote_name, body={}).execute(num_retries=0),
                ctx,
            )()
        except PermanentBackendError:
            after = self.get(remote_name)
            if after.terminal:
                return after
            raise
        return self.get(remote_name)

    def outputs(self, remote_name: str) -> builtins.list[str]:
        """`prediction.results-*` and `prediction.errors_stats-*` in the job's outputPath.

        ML Engine writes straight into outputPath (no per-run folder), so only
        the files it names that way are the job's."""
        job = self.get(remote_name)
        if not job.output_location:
            return []
        from batchspec.io.storage import list_files
        from batchspec.results.formats import SHARD_PREFIXES

        return [
            f
            for f in list_files(job.output_location)
            if f.rsplit("/", 1)[-1].startswith(SHARD_PREFIXES)
        ]


__all__ = ["MLEngineBackend", "mlengine_state", "remote_from_mlengine", "spec_name"]
