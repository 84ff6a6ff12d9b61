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
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from batchspec.compile.fingerprint import fingerprint_label
from batchspec.model.jobs import LABEL_FINGERPRINT, CompiledJob

LABEL_ATTEMPT = "batchspec-attempt"
LABEL_REVISION = "batchspec-rev"
_JOB_ID_MAX = 128


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
