"""Reading a cloud job's log entries from Cloud Logging.

Vertex AI batch prediction jobs (and the google-genai batch jobs, which are
the same `batchPredictionJobs` resource under v1beta1) send their model
containers' stdout and stderr, and the service's own progress and error
lines, to Cloud Logging: the discovery document's `disableContainerLogging`
field says "the container of the DeployedModel instances will send `stderr`
and `stdout` streams to Cloud Logging by default"
(`reference/batch_subset_schemas.json`, `GoogleCloudAiplatformV1BatchPredictionJob`).

The entries are those of the monitored resource `ml_job`, labelled with the
job's numeric id: `resource.type="ml_job" AND resource.labels.job_id="ID"`
(and a `timestamp>=` from the job's creation: without a timestamp term the
client library only asks for the last 24 hours).
That is the filter the services put in their own job error messages ("To find
out more about why your job exited please check the logs: ...
advancedFilter=resource.type="ml_job" resource.labels.job_id=...") and the
one `gcloud ai-platform jobs stream-logs` builds for Cloud ML Engine jobs
(whose ids are the job names, `projects/P/jobs/ID`). Entries are read with
google-cloud-logging's `list_entries` (REST `entries:list`), oldest first;
following asks only for entries newer than the last one shown.

`BATCHSPEC_LOGGING_ENDPOINT` points the client at another endpoint (a private
one, or the tests' local double), like the other `BATCHSPEC_*_ENDPOINT`s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from batchspec.backends.cloud import quote, setting, split_name
from batchspec.errors import BackendError, PermanentBackendError

RESOURCE_TYPE = "ml_job"
JOB_ID_LABEL = "job_id"
LOGGING_ENDPOINT_ENV = "BATCHSPEC_LOGGING_ENDPOINT"
PAGE_SIZE = 1000


@dataclass(frozen=True)
class LogEntry:
    """One log line of a job, whatever backend wrote it."""

    timestamp: str | None
    severity: str | None
    message: str
    source: str | None = None  # container, task or log name
    insert_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """`logs -o json`: one object per line, stable keys (in this order;
        `insert_id` only tells lines apart while following, it is not shown)."""
        return {key: getattr(self, key) for key in ("timestamp", "severity", "source", "message")}

    def text(self) -> str:
        """The line as `logs` prints it."""
        head = " ".join(p for p in (self.timestamp, self.severity, self.source) if p)
        return f"{head}  {self.message}" if head else self.message


def stamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as Cloud Logging writes timestamps."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def job_location(remote_name: str) -> tuple[str, str]:
    """(project, job id) of a Vertex/genai (`projects/P/locations/L/
    batchPredictionJobs/ID`) or ML Engine (`projects/P/jobs/ID`) job name."""
    parts = split_name(remote_name)
    project = parts.get("projects")
    job_id = parts.get("batchPredictionJobs") or parts.get("jobs")
    if not project or not job_id:
        raise BackendError(
            f"{remote_name!r} is not the name of a cloud batch prediction job",
            hint="expected projects/P/locations/L/batchPredictionJobs/ID or projects/P/jobs/ID",
        )
    return project, job_id


def log_filter(job_id: str, *, after: str | None = None) -> str:
    """The Cloud Logging filter for one job's entries (newer than `after`)."""
    terms = [
        f"resource.type={quote(RESOURCE_TYPE)}",
        f"resource.labels.{JOB_ID_LABEL}={quote(job_id)}",
    ]
    if after:
        terms.append(f"timestamp>={quote(after)}")
    return " AND ".join(terms)


class CloudLogReader:
    """Entries of cloud jobs in one project, through google-cloud-logging."""

    def __init__(
        self, project: str, *, credentials: Any = None, api_endpoint: str | None = None
    ) -> None:
        self.project = project
        self.credentials = credentials
        self.api_endpoint = setting(api_endpoint, LOGGING_ENDPOINT_ENV)
        self._client: Any = None

    def _logging(self) -> Any:
        if self._client is None:
            try:
                from google.cloud import logging as cloud_logging
            except ImportError as exc:
                raise PermanentBackendError(
                    "reading a cloud job's log needs google-cloud-logging",
                    hint="pip install 'batchspec[vertex]'",
                ) from exc
            options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
            self._client = cloud_logging.Client(  # type: ignore[no-untyped-call]
                project=self.project,
                credentials=self.credentials,
                client_options=options,
                _use_grpc=False,
            )
        return self._client

    def entries(self, job_id: str, *, after: str | None = None) -> Iterator[LogEntry]:
        """The job's entries, oldest first (pages fetched as they are read)."""
        from google.api_core import exceptions as google_exceptions
        from google.cloud import logging as cloud_logging

        client = self._logging()
        try:
            for entry in client.list_entries(
                resource_names=[f"projects/{self.project}"],
                filter_=log_filter(job_id, after=after),
                order_by=cloud_logging.ASCENDING,
                page_size=PAGE_SIZE,
            ):
                yield _entry(entry)
        except google_exceptions.PermissionDenied as exc:
            raise PermanentBackendError(
                f"Cloud Logging refused to list entries in project {self.project}: {exc.message}",
                hint="reading logs needs roles/logging.viewer on the project",
            ) from exc
        except google_exceptions.GoogleAPICallError as exc:
            raise BackendError(f"Cloud Logging: {exc.message}") from exc


def _entry(entry: Any) -> LogEntry:
    payload = entry.payload
    if isinstance(payload, dict):
        message = payload.get("message")
        text = message if isinstance(message, str) else json.dumps(payload, sort_keys=True)
    else:
        text = "" if payload is None else str(payload)
    labels = dict(entry.labels or {})
    resource_labels = dict(getattr(entry.resource, "labels", None) or {})
    source = labels.get("ml.googleapis.com/tf_task") or resource_labels.get("task_name")
    timestamp = stamp(entry.timestamp) if entry.timestamp else None
    return LogEntry(
        timestamp=timestamp,
        severity=entry.severity,
        message=text.rstrip("\n"),
        source=source or None,
        insert_id=entry.insert_id,
    )
