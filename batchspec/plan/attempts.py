"""Submit keys: one per attempt of a revision, so a retry is a new job.

Backends adopt a job carrying the compiled job's fingerprint label (that is
what makes submission exactly-once). A resubmission after FAILED must not be
adopted back into the failed job, and reverting a spec to an old revision
must run it again, so each attempt of a revision gets its own key: attempt 1
uses the fingerprint itself (what `batchspec render` and Pulumi compute), a
later attempt N uses sha256("<fingerprint>/attempt/N"). The key replaces the
fingerprint and its label on the submitted CompiledJob; the revision's real
fingerprint stays in state and in the `batchspec-rev` label.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from batchspec.compile.fingerprint import fingerprint_label
from batchspec.compile.identity import body_labels, mlengine_job_id, with_labels
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob
from batchspec.model.spec import Policy
from batchspec.schedule.variables import RunContext, render_value
from batchspec.state.records import JobRecord

LABEL_ATTEMPT = "batchspec-attempt"
LABEL_REVISION = "batchspec-rev"
LABEL_RUN = "batchspec-run"
_JOB_ID_MAX = 128
MAX_BACKOFF_DOUBLINGS = 10


def submit_key(fingerprint: str, attempt: int) -> str:
    """The idempotency key of attempt `attempt` (1-based) of a revision."""
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if attempt == 1:
        return fingerprint
    return hashlib.sha256(f"{fingerprint}/attempt/{attempt}".encode()).hexdigest()


def key_label(key: str) -> str:
    """The label value a backend carries for a submit key."""
    return fingerprint_label(key)


def for_attempt(job: CompiledJob, attempt: int) -> CompiledJob:
    """`job` as submitted for attempt `attempt`: same body, its own key and labels."""
    if attempt == 1:
        return job
    key = submit_key(job.fingerprint, attempt)
    extra = {
        LABEL_FINGERPRINT: key_label(key),
        LABEL_REVISION: fingerprint_label(job.fingerprint),
        LABEL_ATTEMPT: str(attempt),
    }
    body: dict[str, Any] = dict(job.body)
    labels = body.get("labels")
    if isinstance(labels, Mapping) and LABEL_FINGERPRINT in labels:
        body["labels"] = {**labels, **extra}
    job_id = body.get("jobId")
    if isinstance(job_id, str):
        # ML Engine: the job id is the idempotency key; ids are never reusable.
        suffix = f"_a{attempt}"
        body["jobId"] = job_id[: _JOB_ID_MAX - len(suffix)] + suffix
    return replace(job, fingerprint=key, labels={**job.labels, **extra}, body=body)


# --- runs of recurring specs ------------------------------------------------------
#
# A run is (revision fingerprint, run key), plus the input snapshot's digest
# for an input-triggered spec: its key is sha256 of those, so every run of a
# revision has its own fingerprint label (Vertex AI, google-genai), its own
# job id (ML Engine: `<name>_<fp12>_<run key>`) and its own local job folder,
# and a run submitted before a crash is found by the same list-before-create
# that finds any other job. The body is the revision's with the run's
# variables filled in; attempts of a run stack on top (`for_attempt`).


def run_key_base(fingerprint: str, run_key: str, inputs_digest: str | None = None) -> str:
    """The idempotency key of attempt 1 of a run."""
    text = f"{fingerprint}/run/{run_key}"
    if inputs_digest:
        text += f"/inputs/{inputs_digest}"
    return hashlib.sha256(text.encode()).hexdigest()


def for_run_key(job: CompiledJob, run: PlannedRunLike) -> str:
    """The base key (attempt 1) of `run` of revision `job`."""
    return run_key_base(job.fingerprint, run.key, run.inputs_digest)


class PlannedRunLike(Protocol):
    """What a run key is made of (a planned run)."""

    @property
    def key(self) -> str: ...

    @property
    def inputs_digest(self) -> str | None: ...


def run_label(run_key: str) -> str:
    """The label value of a run key (Vertex label values: [a-z0-9_-], <= 63)."""
    return re.sub(r"[^a-z0-9_-]", "_", run_key.lower())[:63]


def for_run(job: CompiledJob, run: RunContext, inputs_digest: str | None = None) -> CompiledJob:
    """`job` (a recurring spec's revision) as submitted for one run."""
    key = run_key_base(job.fingerprint, run.key, inputs_digest)
    extra = {
        LABEL_FINGERPRINT: key_label(key),
        LABEL_REVISION: fingerprint_label(job.fingerprint),
        LABEL_RUN: run_label(run.key),
    }
    body: dict[str, Any] = render_value(dict(job.body), run.values())
    labels = body_labels(job.target, body)
    if LABEL_FINGERPRINT in labels:
        body = with_labels(job.target, body, {**labels, **extra})
    if isinstance(body.get("jobId"), str):
        body["jobId"] = mlengine_job_id(job.name, job.fingerprint, run=run_label(run.key))
    return replace(job, fingerprint=key, labels={**job.labels, **extra}, body=body)


def run_context(record: JobRecord, zone_name: str) -> RunContext:
    """The run a recorded job of a recurring spec belongs to."""
    assert record.run_key is not None and record.scheduled_at is not None
    return RunContext(record.run_key, record.scheduled_at, zone_name)


def as_submitted(job: CompiledJob, record: JobRecord) -> CompiledJob:
    """`job` exactly as `record`'s attempt was (or is to be) submitted: the run's
    body and labels for a run of a recurring spec, then the attempt's key."""
    if record.run_key is not None and record.scheduled_at is not None:
        schedule = job.effective.schedule
        zone_name = schedule.time_zone if schedule else "UTC"
        job = for_run(job, run_context(record, zone_name), record.inputs_digest)
    return for_attempt(job, record.attempt)


def retry_not_before(record: JobRecord, policy: Policy) -> datetime | None:
    """When a failed attempt may be resubmitted: exponential backoff per the spec's
    policy, with a jitter of +-10% that is stable for a given job (so every pass,
    and the plan shown in a pull request, agree on the time)."""
    if record.ended_at is None:
        return None
    base = policy.retry_backoff_seconds * (2 ** min(record.retry, MAX_BACKOFF_DOUBLINGS))
    spread = int(hashlib.sha256(record.submit_key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return record.ended_at + timedelta(seconds=base * (0.9 + 0.2 * spread))
