"""What a Ray job is in batchspec's terms: its ids and names, its state, its
record, and Ray's errors in batchspec's error tree. No Ray import here."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from batchspec.engine.jobdir import parse_iso
from batchspec.errors import BatchspecError, PermanentBackendError, TemporaryBackendError
from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob, RemoteJob
from batchspec.raycluster.protocol import INSTALL_HINT, STATES_BY_EXIT

BACKEND_NAME = "ray"
JOBS_PATH = "/api/jobs/"
META_PREFIX = "batchspec.dev/"
META_ATTEMPT = META_PREFIX + "attempt"
META_OUTPUT = META_PREFIX + "output"
META_NAME = META_PREFIX + "name"
META_FINGERPRINT = META_PREFIX + "fingerprint"
RAY_TERMINAL = frozenset({"STOPPED", "SUCCEEDED", "FAILED"})
_RAY_STATES = {
    "PENDING": JobState.PENDING,
    "RUNNING": JobState.RUNNING,
    "STOPPED": JobState.CANCELLED,
    "SUCCEEDED": JobState.SUCCEEDED,
    "FAILED": JobState.FAILED,
}


def submission_id(job: CompiledJob, attempt: int = 1) -> str:
    """`batchspec-<name>-<fingerprint[:12]>`, `-<attempt>` from the second on."""
    base = f"batchspec-{job.name}-{job.fingerprint[:12]}"
    return base if attempt <= 1 else f"{base}-{attempt}"


def remote_name(api_url: str, sid: str) -> str:
    """The job's URL on the Jobs API: where it is and what it is called."""
    return f"{api_url.rstrip('/')}{JOBS_PATH}{sid}"


def split_remote_name(name: str) -> tuple[str | None, str]:
    """(api_url or None for the default cluster, submission id)."""
    if JOBS_PATH in name:
        url, sid = name.rsplit(JOBS_PATH, 1)
        return url, sid
    return None, name


def map_state(ray_status: str, exit_code: int | None, status: Mapping[str, Any] | None) -> JobState:
    """JobState from Ray's status, the driver's exit code and its last status record.

    Ray says whether the job is still running; the engine says how it ended.
    A driver that ended while the engine's record still says it is running
    was lost (killed, its node gone): the job is PAUSED, as a local job whose
    supervisor died is, and submitting it again resumes it.
    """
    state = _RAY_STATES.get(ray_status, JobState.UNSPECIFIED)
    if not state.terminal or state is JobState.CANCELLED:
        return state
    if status is not None:
        with contextlib.suppress(ValueError):
            recorded = JobState(status.get("state", ""))
            return recorded if recorded.terminal else JobState.PAUSED
    if exit_code is not None and exit_code in STATES_BY_EXIT:
        return STATES_BY_EXIT[exit_code]
    return state


def _ms(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value else None


def remote_from_info(
    api_url: str, sid: str, info: Any, status: Mapping[str, Any] | None
) -> RemoteJob:
    """A Ray job (its JobDetails, and the engine's last status record when read)
    as a RemoteJob: the engine's counts and outcome, Ray's times."""
    meta = dict(info.metadata or {})
    ray_status = str(info.status)
    exit_code = getattr(info, "driver_exit_code", None)
    state = map_state(ray_status, exit_code, status)
    error = None
    st = status or {}
    if state is JobState.FAILED:
        engine_error = st.get("error") or {}
        error = engine_error.get("message") or info.message or "the Ray job failed"
    elif state is JobState.PAUSED:
        error = (
            f"the job's driver ended before the job did ({info.message or 'no reason given'});"
            f" submit the job again to resume from its {st.get('shardsDone') or 0}"
            " published shard(s)"
        )
    labels = {k: v for k, v in meta.items() if not k.startswith(META_PREFIX)}
    return RemoteJob(
        backend=BACKEND_NAME,
        remote_name=remote_name(api_url, sid),
        job_name=meta.get(META_NAME) or _name_from(sid),
        fingerprint=meta.get(META_FINGERPRINT) or labels.get(LABEL_FINGERPRINT),
        state=state,
        labels=labels,
        create_time=_ms(info.start_time),
        start_time=parse_iso(st.get("startTime")) or _ms(info.start_time),
        end_time=_ms(info.end_time) or parse_iso(st.get("endTime")),
        completed_count=int(st.get("completedCount") or 0),
        failed_count=int(st.get("failedCount") or 0),
        total_count=st.get("totalCount"),
        output_location=st.get("outputLocation") or meta.get(META_OUTPUT),
        error=error,
    )


def translate(exc: Exception, what: str) -> BatchspecError:
    """An exception from Ray's client in batchspec's error tree."""
    text = str(exc)
    if type(exc).__name__ == "AuthenticationError" or "Authentication" in text:
        return PermanentBackendError(
            f"{what}: the cluster refused this client: {text.splitlines()[0][:300]}",
            hint="the cluster uses token authentication: set RAY_AUTH_TOKEN_PATH to its"
            " token file (or RAY_AUTH_MODE=disabled on both sides); a stray"
            " ~/.ray/auth_token from another cluster causes this too",
        )
    if "require the ray[default]" in text:
        return PermanentBackendError(
            f"{what}: Ray's Jobs API client needs ray[default]", hint=INSTALL_HINT
        )
    if isinstance(exc, ConnectionError | TimeoutError | OSError) or "status code 5" in text:
        return TemporaryBackendError(f"{what}: {text[:500]}")
    return PermanentBackendError(f"{what}: {text[:500]}")


_SID = re.compile(r"^batchspec-(?P<name>.+)-[0-9a-f]{12}(-\d+)?$")


def _name_from(sid: str) -> str:
    """The spec name inside a submission id."""
    m = _SID.match(sid)
    return m.group("name") if m else sid


def with_state(job: RemoteJob, state: JobState) -> RemoteJob:
    """`job` in another state (CANCELLING while a stop takes effect)."""
    return replace(job, state=state)


__all__ = [
    "BACKEND_NAME",
    "INSTALL_HINT",
    "JOBS_PATH",
    "META_ATTEMPT",
    "META_FINGERPRINT",
    "META_NAME",
    "META_OUTPUT",
    "META_PREFIX",
    "RAY_TERMINAL",
    "map_state",
    "remote_from_info",
    "remote_name",
    "split_remote_name",
    "submission_id",
    "translate",
    "with_state",
]
