"""Vertex AI batch prediction through google-cloud-aiplatform's JobServiceClient.

Exactly-once submission without a client request id (Vertex has none): every
body carries batchspec's fingerprint label, so `submit`

1. lists the location's jobs filtered by `labels.batchspec-fp="<fp>"` and
   adopts what it finds (a live job first, else the newest);
2. only then creates the job;
3. after any temporary failure of the create (a timeout, a dropped
   connection, 500/503/429) lists again before creating again, because the
   create may have happened even though its answer was lost.

A crash between the create and the caller recording the job is covered by
step 1 of the next run. The client's own retry is off (`retry=None`); each
public method is one operation of `batchspec.retry`'s loop (`submit`: list,
then create), so a retry always starts with the list, and inside the
controller's loop the controller's policy governs instead.

Credentials come from Application Default Credentials unless given. Each job
is reached where its name says (`projects/P/locations/R/...`), on that
region's endpoint (`{region}-aiplatform.googleapis.com`) unless `api_endpoint`
or `BATCHSPEC_VERTEX_ENDPOINT` overrides it (a private endpoint; tests point
it at a local HTTP double). google-cloud-aiplatform is imported when the
first client is made.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator, Mapping
from typing import Any

from batchspec.backends.cloud import (
    VERTEX_ENDPOINT_ENV,
    Location,
    choose_adopted,
    label_filter,
    matches,
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
from batchspec.compile.fingerprint import fingerprint_label
from batchspec.errors import PermanentBackendError
from batchspec.model.enums import Target
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob, RemoteJob
from batchspec.retry import RandomSource, RetryClock, RetryPolicy

API_HOST = "aiplatform.googleapis.com"
ROLE = "roles/aiplatform.user"
DEFAULT_TIMEOUT = 60.0
DEFAULT_PAGE_SIZE = 100


class VertexBackend:
    """`projects.locations.batchPredictionJobs` on Vertex AI (v1)."""

    name = "vertex"
    service = "Vertex AI"

    def __init__(
        self,
        project: str | None = None,
        region: str | None = None,
        *,
        credentials: Any = None,
        api_endpoint: str | None = None,
        transport: str = "rest",
        retry: RetryPolicy | None = None,
        clock: RetryClock | None = None,
        rng: RandomSource | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.location: Location = resolve_location(project, region, env)
        self.credentials = credentials
        self.api_endpoint = setting(api_endpoint, VERTEX_ENDPOINT_ENV, env)
        self.transport = transport
        self.retry = retry or RetryPolicy()
        self.calls = ServiceCaller(self.retry, clock, rng)
        self.timeout = timeout
        self.page_size = page_size
        self._clients: dict[str, Any] = {}

    # --- clients ------------------------------------------------------------------

    def _client(self, region: str) -> Any:
        """One JobServiceClient per regional endpoint, made on first use."""
        key = self.api_endpoint or region
        if key not in self._clients:
            from google.cloud import aiplatform_v1

            endpoint = self.api_endpoint or f"{region}-{API_HOST}"
            self._clients[key] = aiplatform_v1.JobServiceClient(
                credentials=self.credentials,
                transport=self.transport,
                client_options={"api_endpoint": endpoint},
            )
        return self._clients[key]

    def _ctx(self, action: str, project: str | None, region: str | None) -> CallContext:
        return CallContext(self.service, action, API_HOST, ROLE, project, region)

    def _ctx_for_name(self, action: str, remote_name: str) -> CallContext:
        parts = split_name(remote_name)
        return with_context(
            self._ctx(action, parts.get("projects"), parts.get("locations")), job_read=True
        )

    def _region_of(self, remote_name: str) -> str:
        """The region a job lives in: its name says (the configured one for a bare id)."""
        region = split_name(remote_name).get("locations") or self.location.region
        if not region:
            raise PermanentBackendError(
                f"{self.service}: {remote_name!r} names no location and no region is configured",
                hint="use the job's full name, projects/P/locations/R/batchPredictionJobs/ID",
            )
        return region

    @staticmethod
    def _as_dict(message: Any) -> dict[str, Any]:
        data: dict[str, Any] = type(message).to_dict(
            message, preserving_proto_field_name=False, use_integers_for_enums=False
        )
        return data

    def _remote(self, message: Any) -> RemoteJob:
        return remote_from_vertex(self.name, self._as_dict(message))

    # --- the Backend protocol -------------------------------------------------------

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Adopt the job carrying `job`'s fingerprint, or create it (once), in the
        project and region of the job's own `parent`."""
        if job.target is not Target.VERTEX or job.parent is None:
            raise PermanentBackendError(
                f"{job.name} is compiled for {job.target.value}, not vertex",
                hint="compile it with target=vertex",
            )
        parent = job.parent
        parts = split_name(parent)
        project, region = parts.get("projects"), parts.get("locations")
        if not project or not region:
            raise PermanentBackendError(
                f"{job.name}: parent {parent!r} is not projects/PROJECT/locations/REGION",
                hint="compile the spec again (batchspec render shows the request)",
            )
        fp = job.labels.get(LABEL_FINGERPRINT) or fingerprint_label(job.fingerprint)
        selector = {LABEL_FINGERPRINT: fp}
        find = translating(
            lambda: choose_adopted(self._list_in(region, parent, selector)),
            self._ctx("list batch prediction jobs", project, region),
        )
        create = translating(
            lambda: self._create(region, job),
            with_context(
                self._ctx(f"create batch prediction job {job.name!r}", project, region),
                create=True,
            ),
        )

        def attempt() -> RemoteJob:
            # Every attempt lists first: after a lost answer the job may exist.
            found = find()
            return found if found is not None else create()

        return self.calls.run(attempt)

    def _create(self, region: str, job: CompiledJob) -> RemoteJob:
        from google.cloud import aiplatform_v1

        from batchspec.secrets import resolve

        # `${env:NAME}` references are resolved here, on the way out, and nowhere else.
        message = aiplatform_v1.BatchPredictionJob.from_json(json.dumps(resolve(dict(job.body))))
        created = self._client(region).create_batch_prediction_job(
            parent=job.parent, batch_prediction_job=message, retry=None, timeout=self.timeout
        )
        return self._remote(created)

    def get(self, remote_name: str) -> RemoteJob:
        """The job's current state (JobNotFoundError when there is none)."""
        region = self._region_of(remote_name)
        ctx = self._ctx_for_name(f"get {remote_name}", remote_name)
        found = self.calls.call(
            lambda: self._client(region).get_batch_prediction_job(
                name=remote_name, retry=None, timeout=self.timeout
            ),
            ctx,
        )
        return self._remote(found)

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        """Jobs in the configured project and region whose labels include `selector`
        (PermanentBackendError at once when no location is configured)."""
        project, region = self.location.require(self.service)
        assert region is not None
        return self._list_in(region, f"projects/{project}/locations/{region}", selector)

    def _list_in(
        self, region: str, parent: str, selector: Mapping[str, str] | None
    ) -> Iterator[RemoteJob]:
        """One call per page (filtered on the service, checked here again), each
        page retried on its own (or by the enclosing operation's loop)."""
        from google.cloud import aiplatform_v1

        parts = split_name(parent)
        ctx = self._ctx("list batch prediction jobs", parts.get("projects"), region)
        token = ""
        while True:
            request = aiplatform_v1.ListBatchPredictionJobsRequest(
                parent=parent,
                filter=label_filter(selector) or "",
                page_size=self.page_size,
                page_token=token,
            )

            def fetch(request: Any = request) -> Any:
                pager = self._client(region).list_batch_prediction_jobs(
                    request=request, retry=None, timeout=self.timeout
                )
                return next(iter(pager.pages))

            page = self.calls.call(fetch, ctx)
            for message in page.batch_prediction_jobs:
                remote = self._remote(message)
                if matches(remote.labels, selector):
                    yield remote
            token = page.next_page_token
            if not token:
                return

    def cancel(self, remote_name: str) -> RemoteJob:
        """Ask a running job to stop; a finished job is returned as it is."""
        return self.calls.run(lambda: self._cancel_once(remote_name))

    def _cancel_once(self, remote_name: str) -> RemoteJob:
        current = self.get(remote_name)
        if current.terminal:
            return current
        region = self._region_of(remote_name)
        ctx = self._ctx_for_name(f"cancel {remote_name}", remote_name)
        try:
            translating(
                lambda: self._client(region).cancel_batch_prediction_job(
                    name=remote_name, retry=None, timeout=self.timeout
                ),
                ctx,
            )()
        except PermanentBackendError:
            # FAILED_PRECONDITION when the job finished meanwhile: report that.
            after = self.get(remote_name)
            if after.terminal:
                return after
            raise
        return self.get(remote_name)

    def delete(self, remote_name: str) -> None:
        """Delete a finished job (the service refuses running ones; so do we,
        with a clearer message). Output files are not touched."""
        self.calls.run(lambda: self._delete_once(remote_name))

    def _delete_once(self, remote_name: str) -> None:
        current = self.get(remote_name)
        if not current.terminal:
            raise PermanentBackendError(
                f"{remote_name} is {current.state.value}: only finished jobs can be deleted",
                hint="cancel it first, and delete it once it is CANCELLED",
            )
        region = self._region_of(remote_name)
        ctx = self._ctx_for_name(f"delete {remote_name}", remote_name)
        translating(
            lambda: self._client(region).delete_batch_prediction_job(
                name=remote_name, retry=None, timeout=self.timeout
            ),
            ctx,
        )()

    def outputs(self, remote_name: str) -> builtins.list[str]:
        """The job's result and error files, found through `outputInfo`."""
        return output_files(self.get(remote_name))


def output_files(job: RemoteJob) -> builtins.list[str]:
    """Result and error files in the job's reported output folder, or its
    BigQuery tables.

    BigQuery: `outputInfo` names the dataset and the predictions table; the
    errors table sits beside it (`predictions...` -> `errors...`)."""
    location = job.output_location
    if not location:
        return []
    if location.startswith("bq://"):
        from batchspec.io.bigquery import errors_table_for

        if not location.rpartition(".")[2].startswith("predictions"):
            return [location]
        return [location, errors_table_for(location)]
    from batchspec.io.storage import list_files
    from batchspec.results.formats import file_kind

    # The folder may hold more than outputs (the local engine's manifest).
    return [f for f in list_files(location) if file_kind(f) is not None]


__all__ = ["VertexBackend", "output_files"]
