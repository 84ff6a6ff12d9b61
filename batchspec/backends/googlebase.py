"""What the Vertex AI, google-genai and ML Engine backends do alike.

Each of them reaches a job where its resource name says, lists one location
(`projects/P/locations/R`, or `projects/P` on ML Engine) a page per call,
cancels by "read, ask, read again", and retries through `ServiceCaller`
with the client library's own retries off. `GoogleBackend` holds that, and
a subclass says only how its client library makes each call: `_new_client`,
`_list_page`, `_get_call`, `_cancel_call` and the REST JSON to `RemoteJob`
mapping. `BatchJobsBackend` adds what the two APIs over the
`batchPredictionJobs` resource share: fingerprint-label look-ups before a
create (they have no request id), `create` for a caller that has just
listed, `delete` of finished jobs, and output files from `outputInfo`.

No Google library is imported here.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterator, Mapping
from typing import Any

from batchspec.backends.base import check_target, choose_adopted
from batchspec.backends.cloud import (
    LOCATION_HINT,
    Location,
    matches,
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
from batchspec.errors import AmbiguousSubmitError, PermanentBackendError
from batchspec.model.enums import Target
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob, RemoteJob
from batchspec.retry import RandomSource, RetryClock, RetryPolicy

DEFAULT_TIMEOUT = 60.0
DEFAULT_PAGE_SIZE = 100

Page = tuple[builtins.list[RemoteJob], str | None]


class GoogleBackend:
    """The shared half of the three Google backends (see the module docstring)."""

    name: str
    service: str
    target: Target
    api_host: str
    role: str
    endpoint_env: str  # the environment variable that overrides the endpoint
    regional: bool = True  # locations are projects/P/locations/R (else projects/P)
    _list_action = "list jobs"
    _create_action = "create job"

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
        """`api_endpoint` (else the subclass's `endpoint_env` variable) replaces
        the service's address; `retry`, `clock` and `rng` drive `ServiceCaller`."""
        self.location: Location = resolve_location(project, region, env)
        self.credentials = credentials
        self.endpoint = setting(api_endpoint, self.endpoint_env, env)
        self.retry = retry or RetryPolicy()
        self.calls = ServiceCaller(self.retry, clock, rng)
        self.timeout = timeout
        self.page_size = page_size
        self._clients: dict[Any, Any] = {}

    # --- what a subclass says ------------------------------------------------------

    def _client_key(self, project: str, region: str | None) -> Any:
        """Which client serves this project and region (one per key is made)."""
        return (project, region)

    def _new_client(self, project: str, region: str | None) -> Any:
        raise NotImplementedError

    def _list_page(
        self, project: str, region: str | None, selector: Mapping[str, str] | None, token: str
    ) -> Any:
        """One raw page of the list call (`token` empty for the first)."""
        raise NotImplementedError

    def _read_page(self, raw: Any, project: str, selector: Mapping[str, str] | None) -> Page:
        """The jobs of a raw page and the next page's token."""
        raise NotImplementedError

    def _get_call(self, remote_name: str, project: str, region: str | None) -> Any:
        raise NotImplementedError

    def _cancel_call(self, remote_name: str, project: str, region: str | None) -> None:
        raise NotImplementedError

    def _remote(self, raw: Any, project: str) -> RemoteJob:
        """A job as the client library returns it, as a RemoteJob."""
        raise NotImplementedError

    # --- where ---------------------------------------------------------------------

    def _client(self, project: str, region: str | None) -> Any:
        key = self._client_key(project, region)
        if key not in self._clients:
            self._clients[key] = self._new_client(project, region)
        return self._clients[key]

    @staticmethod
    def _outgoing_body(job: CompiledJob) -> dict[str, Any]:
        """The body as the service receives it: `${env:NAME}` references are
        resolved here, on the way out, and nowhere else (state, plans and job
        files keep the reference)."""
        from batchspec.secrets import resolve

        body: dict[str, Any] = resolve(copy.deepcopy(dict(job.body)))
        return body

    def _where(self, name: str) -> tuple[str, str | None]:
        """The project and region a job or parent names; configured ones fill gaps."""
        parts = split_name(name)
        project = parts.get("projects") or self.location.project
        region = parts.get("locations") or self.location.region
        missing = [
            what
            for what, value in (("project", project), ("location", region))
            if not value and (self.regional or what == "project")
        ]
        if missing:
            raise PermanentBackendError(
                f"{self.service}: {name!r} names no {' and '.join(missing)},"
                " and none is configured",
                hint=LOCATION_HINT,
            )
        assert project is not None
        return project, region if self.regional else None

    def _key(self, project: str, region: str | None) -> str:
        return f"projects/{project}/locations/{region}" if self.regional else f"projects/{project}"

    def location_of(self, name: str) -> str | None:
        """`projects/P/locations/R` (`projects/P` on ML Engine) of a remote name
        or a parent; None when the name does not say."""
        parts = split_name(name)
        project, region = parts.get("projects"), parts.get("locations")
        if not project or (self.regional and not region):
            return None
        return self._key(project, region)

    def default_location(self) -> str | None:
        """The configured location, when project (and region) are set."""
        project, region = self.location.project, self.location.region
        if not project or (self.regional and not region):
            return None
        return self._key(project, region)

    def _ctx(
        self, action: str, project: str | None, region: str | None, **flags: bool
    ) -> CallContext:
        where = region if self.regional else self.location.region
        return with_context(
            CallContext(self.service, action, self.api_host, self.role, project, where), **flags
        )

    def _job_ctx(self, action: str, remote_name: str) -> tuple[CallContext, str, str | None]:
        project, region = self._where(remote_name)
        return self._ctx(action, project, region, job_read=True), project, region

    # --- reading -------------------------------------------------------------------

    def get(self, remote_name: str) -> RemoteJob:
        """The job's current state (JobNotFoundError when there is none)."""
        ctx, project, region = self._job_ctx(f"get {remote_name}", remote_name)
        found = self.calls.call(lambda: self._get_call(remote_name, project, region), ctx)
        return self._remote(found, project)

    def list(self, selector: Mapping[str, str] | None = None) -> Iterator[RemoteJob]:
        """Jobs in the configured location whose labels include `selector`
        (PermanentBackendError at once when no location is configured)."""
        self.location.require(self.service, region=self.regional)
        location = self.default_location()
        assert location is not None
        return self.list_at(location, selector)

    def list_at(
        self, location: str, selector: Mapping[str, str] | None = None
    ) -> Iterator[RemoteJob]:
        """Jobs in one location whose labels include `selector`: one call per
        page (filtered by the service, checked here again), each page retried
        on its own (or by the enclosing operation's loop)."""
        project, region = self._where(location)
        return self._pages(project, region, selector)

    def _pages(
        self, project: str, region: str | None, selector: Mapping[str, str] | None
    ) -> Iterator[RemoteJob]:
        ctx = self._ctx(self._list_action, project, region)
        token = ""
        while True:

            def fetch(token: str = token) -> Any:
                return self._list_page(project, region, selector, token)

            jobs, token_next = self._read_page(self.calls.call(fetch, ctx), project, selector)
            yield from (job for job in jobs if matches(job.labels, selector))
            if not token_next:
                return
            token = token_next

    # --- cancelling ------------------------------------------------------------------

    def cancel(self, remote_name: str) -> RemoteJob:
        """Ask a running job to stop; a finished job is returned as it is."""
        return self.calls.run(lambda: self._cancel_once(remote_name))

    def _cancel_once(self, remote_name: str) -> RemoteJob:
        current = self.get(remote_name)
        if current.terminal:
            return current
        ctx, project, region = self._job_ctx(f"cancel {remote_name}", remote_name)
        try:
            translating(lambda: self._cancel_call(remote_name, project, region), ctx)()
        except PermanentBackendError:
            # FAILED_PRECONDITION when the job finished meanwhile: report that.
            after = self.get(remote_name)
            if after.terminal:
                return after
            raise
        return self.get(remote_name)

    def _check_target(self, job: CompiledJob) -> str:
        """The job's parent, or PermanentBackendError when it is not for this service."""
        check_target(job, self.target, self.service)
        if job.parent is None or self.location_of(job.parent) is None:
            shape = "projects/PROJECT/locations/REGION" if self.regional else "projects/PROJECT"
            raise PermanentBackendError(
                f"{job.name}: parent {job.parent!r} is not {shape}",
                hint="compile the spec again (batchspec render shows the request)",
            )
        return job.parent


class BatchJobsBackend(GoogleBackend):
    """The `batchPredictionJobs` resource (Vertex AI v1, and v1beta1 through
    google-genai): no request id, so exactly-once comes from the fingerprint
    label and a look-up before each create."""

    _list_action = "list batch prediction jobs"
    _create_action = "create batch prediction job"

    def _create_call(self, job: CompiledJob, project: str, region: str, fp: str) -> RemoteJob:
        raise NotImplementedError

    def _delete_call(self, remote_name: str, project: str, region: str | None) -> None:
        raise NotImplementedError

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Adopt the job carrying `job`'s fingerprint, or create it (once), in the
        project and region of the job's own `parent`: every attempt lists first,
        since after a lost answer the job may exist."""
        return self._adopt_or_create(job, listed=False)

    def create(self, job: CompiledJob) -> RemoteJob:
        """Create the job without listing first: the caller listed its location
        in this run. After an ambiguous failure the retry lists before creating."""
        return self._adopt_or_create(job, listed=True)

    def _adopt_or_create(self, job: CompiledJob, *, listed: bool) -> RemoteJob:
        parent = self._check_target(job)
        project, region = self._where(parent)
        assert region is not None
        fp = job.labels.get(LABEL_FINGERPRINT) or fingerprint_label(job.fingerprint)
        find = translating(
            lambda: choose_adopted(self._pages(project, region, {LABEL_FINGERPRINT: fp})),
            self._ctx(self._list_action, project, region),
        )
        create = translating(
            lambda: self._create_call(job, project, region, fp),
            self._ctx(f"{self._create_action} {job.name!r}", project, region, create=True),
        )
        look = [not listed]

        def attempt() -> RemoteJob:
            if look[0]:
                found = find()
                if found is not None:
                    return found
            try:
                return create()
            except AmbiguousSubmitError:
                look[0] = True  # the job may exist now: look before creating again
                raise

        return self.calls.run(attempt)

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
        ctx, project, region = self._job_ctx(f"delete {remote_name}", remote_name)
        translating(lambda: self._delete_call(remote_name, project, region), ctx)()

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


__all__ = ["BatchJobsBackend", "GoogleBackend", "output_files"]
