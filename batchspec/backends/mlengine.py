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
from collections.abc import Mapping
from typing import Any

from batchspec.backends.cloud import MLENGINE_ENDPOINT_ENV, as_int, label_filter, resource_fields
from batchspec.backends.google_errors import classify, describe
from batchspec.backends.googlebase import GoogleBackend, Page
from batchspec.compile.fingerprint import fingerprint_label
from batchspec.compile.identity import JOB_ID_FINGERPRINT_DIGITS, mlengine_job_id
from batchspec.errors import BackendError, PermanentBackendError
from batchspec.model.enums import JobState, Target
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_JOB, CompiledJob, RemoteJob

API_HOST = "ml.googleapis.com"
ROLE = "roles/ml.developer"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
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
    common = resource_fields(data)
    job_id = str(data.get("jobId", ""))
    output = data.get("predictionOutput") or {}
    prediction = data.get("predictionInput") or {}
    done, failed = as_int(output.get("predictionCount")), as_int(output.get("errorCount"))
    return RemoteJob(
        backend=backend,
        remote_name=f"projects/{project}/jobs/{job_id}",
        job_name=spec_name(job_id, common["labels"]),
        state=mlengine_state(data.get("state")),
        completed_count=done,
        failed_count=failed,
        total_count=(done + failed) if output else None,
        output_location=output.get("outputPath") or prediction.get("outputPath"),
        error=data.get("errorMessage") or None,
        **common,
    )


class MLEngineBackend(GoogleBackend):
    """`ml.projects.jobs` (v1), prediction jobs only. Locations are projects."""

    name = "mlengine"
    service = "Cloud ML Engine"
    target = Target.MLENGINE
    api_host = API_HOST
    role = ROLE
    endpoint_env = MLENGINE_ENDPOINT_ENV
    regional = False

    # --- the client library's calls -------------------------------------------------------

    def _client_key(self, project: str, region: str | None) -> Any:
        return "ml"  # one discovery-built service reaches every project

    def _new_client(self, project: str, region: str | None) -> Any:
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
        options = {"api_endpoint": self.endpoint} if self.endpoint else None
        return discovery.build(
            "ml",
            "v1",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )

    def _jobs(self, project: str) -> Any:
        """The `projects().jobs()` collection."""
        return self._client(project, None).projects().jobs()

    def _list_page(
        self, project: str, region: str | None, selector: Mapping[str, str] | None, token: str
    ) -> Any:
        kwargs: dict[str, Any] = {"parent": f"projects/{project}", "pageSize": self.page_size}
        query = label_filter(selector)
        if query:
            kwargs["filter"] = query
        if token:
            kwargs["pageToken"] = token
        return self._jobs(project).list(**kwargs).execute(num_retries=0)

    def _read_page(self, raw: Any, project: str, selector: Mapping[str, str] | None) -> Page:
        jobs = [remote_from_mlengine(self.name, project, item) for item in raw.get("jobs", [])]
        return jobs, raw.get("nextPageToken")

    def _get_call(self, remote_name: str, project: str, region: str | None) -> Any:
        return self._jobs(project).get(name=remote_name).execute(num_retries=0)

    def _cancel_call(self, remote_name: str, project: str, region: str | None) -> None:
        self._jobs(project).cancel(name=remote_name, body={}).execute(num_retries=0)

    def _remote(self, raw: Any, project: str) -> RemoteJob:
        return remote_from_mlengine(self.name, project, raw)

    # --- submitting: the job id is the idempotency key ---------------------------------------

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Create the job under its derived id; 409 with our fingerprint adopts it."""
        parent = self._check_target(job)
        project, _ = self._where(parent)
        fp = job.labels.get(LABEL_FINGERPRINT) or fingerprint_label(job.fingerprint)
        # One operation: a retry after a lost answer starts again from the first id,
        # whose 409 adopts (or moves on) as before.
        return self.calls.run(lambda: self._submit_once(project, job, fp))

    def create(self, job: CompiledJob) -> RemoteJob:
        """`submit`: it never lists, the service refuses a second job under one id."""
        return self.submit(job)

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
        body = {**self._outgoing_body(job), "jobId": job_id}
        parent = f"projects/{project}"
        try:
            created = self._jobs(project).create(parent=parent, body=body).execute(num_retries=0)
        except BackendError:
            raise
        except Exception as exc:  # 409 handled; the rest translated
            failure = describe(exc)
            if failure is not None and failure.status == 409:
                existing = self.get(f"{parent}/jobs/{job_id}")
                return existing if existing.fingerprint == fp else None
            ctx = self._ctx(f"create job {job_id}", project, None, create=True)
            raise classify(exc, ctx) from exc
        return remote_from_mlengine(self.name, project, created)

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
