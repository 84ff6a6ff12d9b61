"""Gemini and partner models on Vertex AI through google-genai's `client.batches`.

The compiled body is `batches.create`'s keyword arguments (`model`, `src`,
`config`); batchspec's labels ride in `config.http_options.extra_body`, which
the SDK merges into the REST body unchanged. Exactly-once submission works as
on Vertex (the SDK creates the same `batchPredictionJobs` resource): list with
`filter='labels.batchspec-fp="<fp>"'`, adopt, else create; after a temporary
failure of the create, list again before creating again.

Two things the SDK does that batchspec does not rely on:

* its `JOB_STATES_ENDED` / `done` set misses PARTIALLY_SUCCEEDED (and
  EXPIRED in older releases): states are mapped here, from the enum name;
* its `BatchJob` drops the job's labels, so `get` cannot report the
  fingerprint. Jobs are immutable, so the fingerprint a job was created with
  (returned by `submit`, and by `list` through the label filter) stays true.

The SDK's own retries are switched off (`HttpRetryOptions(attempts=1)`);
each public method is one operation of `batchspec.retry`'s loop (`submit`:
list, then create). Credentials come from ADC unless given; each job is
reached in the project and region its name says; `base_url` (or
`BATCHSPEC_GENAI_BASE_URL`) overrides the endpoint.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterator, Mapping
from typing import Any

from batchspec.backends.cloud import (
    GENAI_BASE_URL_ENV,
    LOCATION_HINT,
    Location,
    choose_adopted,
    label_filter,
    remote_from_vertex,
    resolve_location,
    setting,
    split_name,
)
from batchspec.backends.google_errors import (
    CallContext,
    ServiceCaller,
    translating,
    with_context,
)
from batchspec.backends.vertex import output_files
from batchspec.compile.fingerprint import fingerprint_label
from batchspec.errors import PermanentBackendError
from batchspec.model.enums import Target
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob, RemoteJob
from batchspec.retry import RandomSource, RetryClock, RetryPolicy

API_HOST = "aiplatform.googleapis.com"
ROLE = "roles/aiplatform.user"
DEFAULT_TIMEOUT = 60.0
DEFAULT_PAGE_SIZE = 100


def remote_from_batch_job(
    backend: str, job: Any, labels: Mapping[str, str] | None = None
) -> RemoteJob:
    """A google-genai `BatchJob` as a RemoteJob (`labels`: what is known of them)."""
    stats = job.completion_stats
    info = job.output_info
    error = job.error
    data: dict[str, Any] = {
        "name": job.name or "",
        "displayName": job.display_name,
        "state": job.state,
        "createTime": job.create_time,
        "startTime": job.start_time,
        "endTime": job.end_time,
        "labels": dict(labels or {}),
    }
    if stats is not None:
        data["completionStats"] = {
            "successfulCount": stats.successful_count,
            "failedCount": stats.failed_count,
            "incompleteCount": stats.incomplete_count,
        }
    if info is not None:
        data["outputInfo"] = {
            "gcsOutputDirectory": getattr(info, "gcs_output_directory", None),
            "bigqueryOutputDataset": getattr(info, "bigquery_output_dataset", None)
            or _destination_dataset(job),
            "bigqueryOutputTable": getattr(info, "bigquery_output_table", None),
        }
    if error is not None:
        data["error"] = {"code": error.code, "message": error.message}
    return remote_from_vertex(backend, data)


def _destination_dataset(job: Any) -> str | None:
    """The `bq://project.dataset` a job wrote into, when the SDK's output info
    names only the table (google-genai 2.x keeps no output dataset field)."""
    dest = getattr(job, "dest", None)
    uri = getattr(dest, "bigquery_uri", None) if dest is not None else None
    if isinstance(uri, str) and uri.startswith("bq://") and uri.count(".") == 1:
        return uri
    return None


class GenaiBackend:
    """`google.genai.Client(vertexai=True).batches` for one project."""

    name = "genai"
    service = "Vertex AI (google-genai)"

    def __init__(
        self,
        project: str | None = None,
        region: str | None = None,
        *,
        credentials: Any = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        clock: RetryClock | None = None,
        rng: RandomSource | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.location: Location = resolve_location(project, region, env)
        self.credentials = credentials
        self.base_url = setting(base_url, GENAI_BASE_URL_ENV, env)
        self.retry = retry or RetryPolicy()
        self.calls = ServiceCaller(self.retry, clock, rng)
        self.timeout = timeout
        self.page_size = page_size
        self._clients: dict[tuple[str, str], Any] = {}

    def _client(self, project: str, region: str) -> Any:
        key = (project, region)
        if key not in self._clients:
            from google import genai
            from google.genai import types

            options = types.HttpOptions(
                base_url=self.base_url,
                timeout=int(self.timeout * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            )
            self._clients[key] = genai.Client(
                vertexai=True,
                project=project,
                location=region,
                credentials=self.credentials,
                http_options=options,
            )
        return self._clients[key]

    def _where(self, name_or_parent: str) -> tuple[str, str]:
        """The project and region a job (or parent) names; the configured ones fill gaps."""
        parts = split_name(name_or_parent)
        project = parts.get("projects") or self.location.project
        region = parts.get("locations") or self.location.region
        if not project or not region:
            raise PermanentBackendError(
                f"{self.service}: {name_or_parent!r} names no project and location,"
                " and none is configured",
                hint=LOCATION_HINT,
            )
        return project, region

    def _ctx(self, action: str, project: str, region: str, **flags: bool) -> CallContext:
        return with_context(
            CallContext(self.service, action, API_HOST, ROLE, project, region), **flags
        )

    # --- the Backend protocol -----------------------------------------------------------

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Adopt the job carrying `job`'s fingerprint, or create it (once), in the
        project and region of the job's own `parent`."""
        if job.target is not Target.GENAI or job.parent is None:
            raise PermanentBackendError(
                f"{job.name} is compiled for {job.target.value}, not genai",
                hint="compile it with target=genai",
            )
        project, region = self._where(job.parent)
        fp = job.labels.get(LABEL_FINGERPRINT) or fingerprint_label(job.fingerprint)
        find = translating(
            lambda: choose_adopted(self._pages(project, region, {LABEL_FINGERPRINT: fp})),
            self._ctx("list batch jobs", project, region),
        )
        create = translating(
            lambda: self._create(project, region, job, fp),
            self._ctx(f"create batch job {job.name!r}", project, region, create=True),
        )

        def attempt() -> RemoteJob:
            # Every attempt lists first: after a lost answer the job may exist.
            found = find()
            return found if found is not None else create()

        return self.calls.run(attempt)

    def _create(self, project: str, region: str, job: CompiledJob, fp: str) -> RemoteJob:
        from batchspec.secrets import resolve

        body = resolve(copy.deepcopy(dict(job.body)))  # `${env:NAME}`: on the way out only
        created = self._client(project, region).batches.create(
            model=body["model"], src=body["src"], config=body.get("config")
        )
        labels = (
            body.get("config", {})
            .get("http_options", {})
            .get("extra_body", {})
            .get("labels", {LABEL_FINGERPRINT: fp})
        )
        return remote_from_batch_job(self.name, created, labels)

    def get(self, remote_name: str) -> RemoteJob:
        """The job's state (labels are not returned by google-genai)."""
        project, region = self._where(remote_name)
        ctx = self._ctx(f"get {remote_name}", project, region, job_read=True)
        found = self.calls.call(
            lambda: self._client(project, region).batches.get(name=remote_name), ctx
        )
        return remote_from_batch_job(self.name, found)

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        """Jobs in the configured project and region whose labels include
        `selector` (PermanentBackendError at once when no location is configured)."""
        project, region = self.location.require(self.service)
        assert region is not None
        return self._pages(project, region, selector)

    def _pages(
        self, project: str, region: str, selector: Mapping[str, str] | None
    ) -> Iterator[RemoteJob]:
        """One call per page, each retried on its own (or by the enclosing loop)."""
        ctx = self._ctx("list batch jobs", project, region)
        token: str | None = None
        while True:
            config: dict[str, Any] = {"page_size": self.page_size}
            if selector:
                config["filter"] = label_filter(selector)
            if token:
                config["page_token"] = token

            def fetch(config: dict[str, Any] = config) -> Any:
                return self._client(project, region).batches.list(config=config)

            pager = self.calls.call(fetch, ctx)
            for item in pager.page:
                yield remote_from_batch_job(self.name, item, selector)
            token = pager.config.get("page_token")
            if not token:
                return

    def cancel(self, remote_name: str) -> RemoteJob:
        """Ask a running job to stop; a finished job is returned as it is."""
        return self.calls.run(lambda: self._cancel_once(remote_name))

    def _cancel_once(self, remote_name: str) -> RemoteJob:
        current = self.get(remote_name)
        if current.terminal:
            return current
        project, region = self._where(remote_name)
        ctx = self._ctx(f"cancel {remote_name}", project, region, job_read=True)
        try:
            translating(
                lambda: self._client(project, region).batches.cancel(name=remote_name), ctx
            )()
        except PermanentBackendError:
            after = self.get(remote_name)
            if after.terminal:
                return after
            raise
        return self.get(remote_name)

    def delete(self, remote_name: str) -> None:
        """Delete a finished job."""
        self.calls.run(lambda: self._delete_once(remote_name))

    def _delete_once(self, remote_name: str) -> None:
        current = self.get(remote_name)
        if not current.terminal:
            raise PermanentBackendError(
                f"{remote_name} is {current.state.value}: only finished jobs can be deleted",
                hint="cancel it first, and delete it once it is CANCELLED",
            )
        project, region = self._where(remote_name)
        ctx = self._ctx(f"delete {remote_name}", project, region, job_read=True)
        translating(lambda: self._client(project, region).batches.delete(name=remote_name), ctx)()

    def outputs(self, remote_name: str) -> builtins.list[str]:
        """The job's result and error files, found through `outputInfo`."""
        return output_files(self.get(remote_name))


__all__ = ["GenaiBackend", "remote_from_batch_job"]
