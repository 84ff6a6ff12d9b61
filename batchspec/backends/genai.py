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

Jobs compiled for the Gemini Developer API (`genai.api: gemini`) and batch
names `batches/ID` go to `batchspec.backends.gemini.GeminiBatches` (an API
key from the environment, no project or region; `gemini_base_url` or
`BATCHSPEC_GEMINI_BASE_URL` overrides its endpoint).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from typing import Any

from batchspec.backends.base import check_target
from batchspec.backends.cloud import GENAI_BASE_URL_ENV, label_filter, remote_from_vertex, setting
from batchspec.backends.gemini import BASE_URL_ENV as GEMINI_BASE_URL_ENV
from batchspec.backends.gemini import GeminiBatches, is_gemini_name, remote_from_gemini
from batchspec.backends.google_errors import CallContext
from batchspec.backends.googlebase import BatchJobsBackend, Page
from batchspec.compile.fingerprint import fingerprint_label
from batchspec.compile.identity import gemini_api_body
from batchspec.model.enums import Target
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob, RemoteJob

API_HOST = "aiplatform.googleapis.com"
ROLE = "roles/aiplatform.user"


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


class GenaiBackend(BatchJobsBackend):
    """`google.genai.Client(vertexai=True).batches`, one client per project and region."""

    name = "genai"
    service = "Vertex AI (google-genai)"
    target = Target.GENAI
    api_host = API_HOST
    role = ROLE

    endpoint_env = GENAI_BASE_URL_ENV
    _list_action = "list batch jobs"
    _create_action = "create batch job"

    def __init__(
        self,
        project: str | None = None,
        region: str | None = None,
        *,
        base_url: str | None = None,
        gemini_base_url: str | None = None,
        **options: Any,
    ) -> None:
        """`base_url` (else $BATCHSPEC_GENAI_BASE_URL) replaces the service's
        address, `gemini_base_url` (else $BATCHSPEC_GEMINI_BASE_URL) the Gemini
        Developer API's; `options` are `GoogleBackend`'s (credentials, retry,
        clock, rng, timeout, page_size, env)."""
        super().__init__(project, region, api_endpoint=base_url, **options)
        env = options.get("env")
        self.gemini = GeminiBatches(
            self.calls,
            env=os.environ if env is None else env,
            base_url=setting(gemini_base_url, GEMINI_BASE_URL_ENV, env),
            timeout=self.timeout,
            page_size=self.page_size,
        )

    # --- the Gemini Developer API: its own jobs, its own names ------------------------

    def submit(self, job: CompiledJob) -> RemoteJob:
        """Adopt or create the job: on Vertex AI in its parent's location, or on
        the Gemini Developer API for jobs compiled for it."""
        if gemini_api_body(job.target, job.body):
            check_target(job, self.target, self.service)
            fp = job.labels.get(LABEL_FINGERPRINT) or fingerprint_label(job.fingerprint)
            return self.gemini.submit(self.name, job, fp)
        return super().submit(job)

    def create(self, job: CompiledJob) -> RemoteJob:
        """As `submit` for the Gemini Developer API (its batches are listed first)."""
        if gemini_api_body(job.target, job.body):
            return self.submit(job)
        return super().create(job)

    def _job_ctx(self, action: str, remote_name: str) -> tuple[CallContext, str, str | None]:
        if is_gemini_name(remote_name):  # no project, no location: an API key
            return self.gemini.ctx(action, job_read=True), "", None
        return super()._job_ctx(action, remote_name)

    def outputs(self, remote_name: str) -> builtins.list[str]:
        """Result files: `outputInfo` on Vertex AI, the responses file on the
        Gemini Developer API (inline responses have none)."""
        if is_gemini_name(remote_name):
            return self.gemini.outputs(self.name, remote_name)
        return super().outputs(remote_name)

    # --- the client library's calls -----------------------------------------------------

    def _new_client(self, project: str, region: str | None) -> Any:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            base_url=self.endpoint,
            timeout=int(self.timeout * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        return genai.Client(
            vertexai=True,
            project=project,
            location=region,
            credentials=self.credentials,
            http_options=options,
        )

    def _list_page(
        self, project: str, region: str | None, selector: Mapping[str, str] | None, token: str
    ) -> Any:
        config: dict[str, Any] = {"page_size": self.page_size}
        if selector:
            config["filter"] = label_filter(selector)
        if token:
            config["page_token"] = token
        return self._client(project, region).batches.list(config=config)

    def _read_page(self, raw: Any, project: str, selector: Mapping[str, str] | None) -> Page:
        # google-genai drops labels: what the filter asked for is what is known of them.
        jobs = [remote_from_batch_job(self.name, item, selector) for item in raw.page]
        return jobs, raw.config.get("page_token")

    def _create_call(self, job: CompiledJob, project: str, region: str, fp: str) -> RemoteJob:
        body = self._outgoing_body(job)
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

    def _batches(self, remote_name: str, project: str, region: str | None) -> Any:
        if is_gemini_name(remote_name):
            return self.gemini.client().batches
        return self._client(project, region).batches

    def _get_call(self, remote_name: str, project: str, region: str | None) -> Any:
        return self._batches(remote_name, project, region).get(name=remote_name)

    def _cancel_call(self, remote_name: str, project: str, region: str | None) -> None:
        self._batches(remote_name, project, region).cancel(name=remote_name)

    def _delete_call(self, remote_name: str, project: str, region: str | None) -> None:
        self._batches(remote_name, project, region).delete(name=remote_name)

    def _remote(self, raw: Any, project: str) -> RemoteJob:
        """The job's state (labels are not returned by google-genai; on the
        Gemini Developer API the display name carries the fingerprint)."""
        if is_gemini_name(raw.name or ""):
            return remote_from_gemini(self.name, raw)
        return remote_from_batch_job(self.name, raw)


__all__ = ["GenaiBackend", "remote_from_batch_job"]
