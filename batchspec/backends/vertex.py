"""Vertex AI batch prediction through google-cloud-aiplatform's JobServiceClient.

Exactly-once submission without a client request id (Vertex has none): every
body carries batchspec's fingerprint label, so `submit`

1. lists the location's jobs filtered by `labels.batchspec-fp="<fp>"` and
   adopts what it finds (a live job first, else the newest);
2. only then creates the job;
3. after an ambiguous failure of the create (a timeout, a dropped
   connection, 500/502/504) lists again before creating again, because the
   create may have happened even though its answer was lost; a refusal
   (429, 503) is retried without a new list.

`create` is the same without step 1, for a caller that listed the location
itself moments ago (apply and each controller pass list every location once,
then create: O(pages) lists, not one per job); step 3 still holds.

A crash between the create and the caller recording the job is covered by
step 1 of the next run. The client's own retry is off (`retry=None`); each
public method is one operation of `batchspec.retry`'s loop, and inside the
controller's loop the controller's policy governs instead.

Credentials come from Application Default Credentials unless given. Each job
is reached where its name says (`projects/P/locations/R/...`), on that
region's endpoint (`{region}-aiplatform.googleapis.com`) unless `api_endpoint`
or `BATCHSPEC_VERTEX_ENDPOINT` overrides it (a private endpoint; tests point
it at a local HTTP double). google-cloud-aiplatform is imported when the
first client is made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from batchspec.backends.cloud import VERTEX_ENDPOINT_ENV, label_filter, remote_from_vertex
from batchspec.backends.googlebase import BatchJobsBackend, Page, output_files
from batchspec.backends.vertexmodels import VertexModels
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob, RemoteJob

API_HOST = "aiplatform.googleapis.com"
ROLE = "roles/aiplatform.user"


class VertexBackend(BatchJobsBackend):
    """`projects.locations.batchPredictionJobs` on Vertex AI (v1)."""

    name = "vertex"
    service = "Vertex AI"
    target = Target.VERTEX
    api_host = API_HOST
    role = ROLE

    endpoint_env = VERTEX_ENDPOINT_ENV

    def __init__(
        self,
        project: str | None = None,
        region: str | None = None,
        *,
        transport: str = "rest",
        **options: Any,
    ) -> None:
        """`transport`: the client library's (`rest` or `grpc`); `options` are
        `GoogleBackend`'s (`api_endpoint`, else $BATCHSPEC_VERTEX_ENDPOINT,
        replaces the regional endpoints)."""
        super().__init__(project, region, **options)
        self.transport = transport

    def models(self) -> VertexModels:
        """The model registry on the same endpoint, credentials and retry policy
        (what apply uploads `kind: Model` revisions through)."""
        found: VertexModels | None = getattr(self, "_models", None)
        if found is None:
            found = VertexModels(self)
            self._models = found
        return found

    # --- the client library's calls ---------------------------------------------------

    def _client_key(self, project: str, region: str | None) -> Any:
        """One JobServiceClient per regional endpoint."""
        return self.endpoint or region

    def _new_client(self, project: str, region: str | None) -> Any:
        from google.cloud import aiplatform_v1

        endpoint = self.endpoint or f"{region}-{API_HOST}"
        return aiplatform_v1.JobServiceClient(
            credentials=self.credentials,
            transport=self.transport,
            client_options={"api_endpoint": endpoint},
        )

    def _list_page(
        self, project: str, region: str | None, selector: Mapping[str, str] | None, token: str
    ) -> Any:
        from google.cloud import aiplatform_v1

        request = aiplatform_v1.ListBatchPredictionJobsRequest(
            parent=self._key(project, region),
            filter=label_filter(selector) or "",
            page_size=self.page_size,
            page_token=token,
        )
        pager = self._client(project, region).list_batch_prediction_jobs(
            request=request, retry=None, timeout=self.timeout
        )
        return next(iter(pager.pages))

    def _read_page(self, raw: Any, project: str, selector: Mapping[str, str] | None) -> Page:
        return [self._remote(m, project) for m in raw.batch_prediction_jobs], raw.next_page_token

    def _create_call(self, job: CompiledJob, project: str, region: str, fp: str) -> RemoteJob:
        from google.cloud import aiplatform_v1

        body = self._outgoing_body(job)
        message = aiplatform_v1.BatchPredictionJob.from_json(json.dumps(body))
        created = self._client(project, region).create_batch_prediction_job(
            parent=job.parent, batch_prediction_job=message, retry=None, timeout=self.timeout
        )
        return self._remote(created, project)

    def _get_call(self, remote_name: str, project: str, region: str | None) -> Any:
        return self._client(project, region).get_batch_prediction_job(
            name=remote_name, retry=None, timeout=self.timeout
        )

    def _cancel_call(self, remote_name: str, project: str, region: str | None) -> None:
        self._client(project, region).cancel_batch_prediction_job(
            name=remote_name, retry=None, timeout=self.timeout
        )

    def _delete_call(self, remote_name: str, project: str, region: str | None) -> None:
        self._client(project, region).delete_batch_prediction_job(
            name=remote_name, retry=None, timeout=self.timeout
        )

    def _remote(self, raw: Any, project: str) -> RemoteJob:
        data: dict[str, Any] = type(raw).to_dict(
            raw, preserving_proto_field_name=False, use_integers_for_enums=False
        )
        return remote_from_vertex(self.name, data)


__all__ = ["VertexBackend", "output_files"]
