"""What the Vertex AI, google-genai and ML Engine backends share.

* Where a job runs: `submit`, `get` and `cancel` use the project and region
  the job itself names (its compiled `parent`, its remote name), so one
  backend serves specs in many projects and regions. `list` has no job to
  ask: it uses the backend's configured location, from the constructor or
  the environment (`BATCHSPEC_PROJECT` / `GOOGLE_CLOUD_PROJECT`,
  `BATCHSPEC_REGION`, the variables `compile_spec` reads), and says clearly
  when there is none.
* Endpoint overrides from the environment (`BATCHSPEC_VERTEX_ENDPOINT`,
  `BATCHSPEC_GENAI_BASE_URL`, `BATCHSPEC_MLENGINE_ENDPOINT`), so the
  registry's no-argument construction can reach a private endpoint, a
  regional proxy or a local double.
* Vertex's REST JSON (as the service, the REST transport and the test double
  speak it) mapped onto `RemoteJob`: the twelve JobState values, by name or by
  number (the REST transport asks for `enum-encoding=int`), completion stats,
  partial failures, output info.
* Label selectors as the list filter the service understands, and the choice
  of which existing job to adopt when several carry one fingerprint.

No Google library is imported here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from batchspec.compile.fingerprint import fingerprint_label
from batchspec.compile.prepare import PROJECT_ENV, REGION_ENV
from batchspec.errors import PermanentBackendError
from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_JOB, RemoteJob

# Vertex AI JobState, in proto order: the REST transport sends these numbers.
VERTEX_STATE_ORDER: tuple[JobState, ...] = (
    JobState.UNSPECIFIED,
    JobState.QUEUED,
    JobState.PENDING,
    JobState.RUNNING,
    JobState.SUCCEEDED,
    JobState.FAILED,
    JobState.CANCELLING,
    JobState.CANCELLED,
    JobState.PAUSED,
    JobState.EXPIRED,
    JobState.UPDATING,
    JobState.PARTIALLY_SUCCEEDED,
)
STATE_PREFIX = "JOB_STATE_"


def vertex_state(value: Any) -> JobState:
    """A Vertex JobState given as `JOB_STATE_RUNNING`, `RUNNING`, 3 or an enum
    member of either SDK; unknown values map to UNSPECIFIED (never terminal,
    so a job in a state newer than this code is watched, not forgotten)."""
    if value is None:
        return JobState.UNSPECIFIED
    if isinstance(value, int) and not isinstance(value, bool):
        number = int(value)
        return (
            VERTEX_STATE_ORDER[number]
            if 0 <= number < len(VERTEX_STATE_ORDER)
            else (JobState.UNSPECIFIED)
        )
    name = str(getattr(value, "name", value))
    name = name.removeprefix(STATE_PREFIX)
    try:
        return JobState(name)
    except ValueError:
        return JobState.UNSPECIFIED


# --- where --------------------------------------------------------------------------

VERTEX_ENDPOINT_ENV = "BATCHSPEC_VERTEX_ENDPOINT"
GENAI_BASE_URL_ENV = "BATCHSPEC_GENAI_BASE_URL"
MLENGINE_ENDPOINT_ENV = "BATCHSPEC_MLENGINE_ENDPOINT"

LOCATION_HINT = (
    "set BATCHSPEC_PROJECT (or GOOGLE_CLOUD_PROJECT) and BATCHSPEC_REGION for the process"
    " that runs batchspec: jobs are submitted where their spec says, but listing them"
    " (plan --refresh, apply, reconcile, drift) needs one configured location"
)


@dataclass(frozen=True)
class Location:
    """The backend's configured project and region (either may be unknown)."""

    project: str | None
    region: str | None

    def require(self, service: str = "batchspec", *, region: bool = True) -> tuple[str, str | None]:
        """Project and region for listing jobs, or a PermanentBackendError saying
        which is missing and how to set it."""
        missing = [
            name
            for name, value in (("project", self.project), ("region", self.region))
            if not value and (region or name == "project")
        ]
        if missing:
            raise PermanentBackendError(
                f"{service}: no {' or '.join(missing)} configured to list jobs in",
                hint=LOCATION_HINT,
            )
        assert self.project is not None
        return self.project, self.region

    @property
    def parent(self) -> str:
        """`projects/P/locations/R` for listing jobs (PermanentBackendError when unset)."""
        project, region = self.require()
        return f"projects/{project}/locations/{region}"


def resolve_location(
    project: str | None = None,
    region: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Location:
    """Project and region from the arguments, else the environment."""
    env = os.environ if env is None else env
    project = project or next((env[n] for n in PROJECT_ENV if env.get(n, "").strip()), None)
    region = region or next((env[n] for n in REGION_ENV if env.get(n, "").strip()), None)
    return Location(project.strip() if project else None, region.strip() if region else None)


def setting(
    explicit: str | None, variable: str, env: Mapping[str, str] | None = None
) -> str | None:
    """`explicit` when given, else the non-blank environment variable `variable`."""
    if explicit:
        return explicit
    value = (os.environ if env is None else env).get(variable, "").strip()
    return value or None


def split_name(name: str) -> dict[str, str]:
    """`projects/p/locations/l/batchPredictionJobs/1` -> {"projects": "p", ...}."""
    parts = name.strip("/").split("/")
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}


# --- list filters ---------------------------------------------------------------------


def quote(value: str) -> str:
    """A string literal in the AIP-160 filter language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def label_filter(selector: Mapping[str, str] | None) -> str | None:
    """`labels.k="v" AND ...` for a label selector (None when empty)."""
    if not selector:
        return None
    return " AND ".join(f"labels.{key}={quote(value)}" for key, value in sorted(selector.items()))


def matches(labels: Mapping[str, str], selector: Mapping[str, str] | None) -> bool:
    """Client-side check of a selector: a service that ignored part of a filter
    must not make batchspec adopt or report the wrong job."""
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def same_revision(remote_fingerprint: str | None, fingerprint: str) -> bool:
    """True when a job read from a service is this revision.

    Services return the fingerprint *label*, which is the fingerprint cut to
    the 63-character label limit: compare through this, not with `==`."""
    return bool(remote_fingerprint) and fingerprint_label(fingerprint) == remote_fingerprint


# --- Vertex REST JSON -> RemoteJob ----------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (`2024-05-01T10:00:00.123456789Z`) or datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:  # Python takes at most 6 fraction digits
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_int(value: Any) -> int:
    """An int64 field (a JSON string) or a number; absent is 0."""
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def status_text(status: Mapping[str, Any] | None) -> str | None:
    """A google.rpc.Status as `message (code N)`."""
    if not status:
        return None
    message = str(status.get("message") or "").strip()
    code = status.get("code")
    if not message and not code:
        return None
    return f"{message} (code {code})" if code else message


def vertex_output_location(data: Mapping[str, Any]) -> str | None:
    """Where the job wrote: `outputInfo`, as the service reports it.

    Never rebuilt from the destination prefix: the folder's timestamp does not
    match createTime."""
    info = data.get("outputInfo") or {}
    if info.get("gcsOutputDirectory"):
        return str(info["gcsOutputDirectory"])
    dataset = info.get("bigqueryOutputDataset")
    if dataset:
        table = info.get("bigqueryOutputTable")
        return f"{dataset}.{table}" if table else str(dataset)
    return None


def resource_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """What every Google job resource says alike, as RemoteJob fields: its
    labels (the fingerprint among them) and its three timestamps."""
    labels = {str(k): str(v) for k, v in (data.get("labels") or {}).items()}
    return {
        "labels": labels,
        "fingerprint": labels.get(LABEL_FINGERPRINT),
        "create_time": parse_time(data.get("createTime")),
        "start_time": parse_time(data.get("startTime")),
        "end_time": parse_time(data.get("endTime")),
    }


def remote_from_vertex(backend: str, data: Mapping[str, Any]) -> RemoteJob:
    """A Vertex BatchPredictionJob (REST JSON, camelCase) as a RemoteJob."""
    common = resource_fields(data)
    stats = data.get("completionStats") or {}
    done, failed = as_int(stats.get("successfulCount")), as_int(stats.get("failedCount"))
    incomplete = as_int(stats.get("incompleteCount"))
    total = done + failed + max(incomplete, 0) if stats else None
    failures = tuple(t for t in (status_text(s) for s in data.get("partialFailures") or []) if t)
    return RemoteJob(
        backend=backend,
        remote_name=str(data.get("name", "")),
        job_name=str(data.get("displayName") or common["labels"].get(LABEL_JOB) or ""),
        state=vertex_state(data.get("state")),
        completed_count=done,
        failed_count=failed,
        total_count=total or None,
        output_location=vertex_output_location(data),
        error=status_text(data.get("error")),
        partial_failures=failures,
        **common,
    )


__all__ = [
    "GENAI_BASE_URL_ENV",
    "LOCATION_HINT",
    "MLENGINE_ENDPOINT_ENV",
    "VERTEX_ENDPOINT_ENV",
    "VERTEX_STATE_ORDER",
    "Location",
    "as_int",
    "label_filter",
    "matches",
    "parse_time",
    "quote",
    "remote_from_vertex",
    "resolve_location",
    "resource_fields",
    "same_revision",
    "setting",
    "split_name",
    "status_text",
    "vertex_output_location",
    "vertex_state",
]
