"""Plain records read from the state store.

They are frozen dataclasses rather than ORM objects: the store is the only
writer, every change goes through one of its transactional methods, and the
rest of batchspec (plan, reconcile, CLI) only ever reads these snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from batchspec.model.camel import camel_fields
from batchspec.model.enums import JobState
from batchspec.model.revision import Revisioned


class Phase(StrEnum):
    """Where a job is in batchspec's own submission protocol.

    INTENT is written, in its own transaction, *before* the backend's create
    call. A record left in INTENT means a run stopped between deciding to
    submit and learning the outcome: the next run looks the job up by its
    submit key (the fingerprint label) and adopts it, or submits it then.
    """

    INTENT = "intent"
    SUBMITTED = "submitted"


class Disposition(StrEnum):
    """What batchspec still wants from a job record.

    CURRENT: the one job that stands for a declared spec name (at most one per
    name, enforced by a unique index). SUPERSEDED: an older revision or a
    failed attempt; followed until it ends, never acted on. REMOVED: its spec
    was deleted and the job cancelled; followed until it ends. FORGOTTEN: no
    longer tracked (its name stays in the used-names table for ever).
    """

    CURRENT = "current"
    SUPERSEDED = "superseded"
    REMOVED = "removed"
    FORGOTTEN = "forgotten"


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (state never holds naive times)."""
    return datetime.now(UTC)


def to_text(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`: sorts as text, reads back exactly."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(record: object, names: str) -> dict[str, Any]:
    """`camel_fields` with times as `to_text` writes them."""
    return camel_fields(record, names, time=to_text)


# What a run's JSON tells of its job (and says when it has none).
_RUN_JOB = "remote_name completed_count failed_count total_count output_location attempt"
_NO_JOB = {
    "remoteName": None,
    "completedCount": 0,
    "failedCount": 0,
    "totalCount": None,
    "outputLocation": None,
    "attempt": None,
}


def from_text(value: str | None) -> datetime | None:
    """Inverse of `to_text`."""
    if value is None:
        return None
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class JobRecord(Revisioned):
    """One job batchspec submitted (or is about to submit), as recorded."""

    id: int
    name: str
    fingerprint: str
    submit_key: str
    attempt: int
    retry: int
    target: str
    backend: str
    phase: Phase
    state: JobState | None
    disposition: Disposition
    remote_name: str | None
    source: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    completed_count: int = 0
    failed_count: int = 0
    total_count: int | None = None
    output_location: str | None = None
    error: str | None = None
    cancel_reason: str | None = None
    cancel_requested_at: datetime | None = None
    missing_since: datetime | None = None
    manifest_sha256: str | None = None
    run_key: str | None = None  # a run of a recurring spec: its tick (or inputs) key
    scheduled_at: datetime | None = None
    inputs_digest: str | None = None

    @property
    def terminal(self) -> bool:
        """True once the backend reported an end state."""
        return self.state is not None and self.state.terminal

    @property
    def in_doubt(self) -> bool:
        """True when a submit may or may not have reached the backend (a submit the
        backend refused for good has a state and is not in doubt)."""
        return self.phase is Phase.INTENT and self.state is None

    @property
    def followed(self) -> bool:
        """True while the controller should keep observing this job."""
        return self.disposition is not Disposition.FORGOTTEN and not self.terminal

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (times as ISO text; not the outputs' and inputs'
        digests, which are baselines for drift and not part of the job)."""
        return _json(
            self,
            "id name fingerprint submit_key attempt retry target backend phase state disposition"
            " remote_name source created_at updated_at submitted_at started_at ended_at"
            " completed_count failed_count total_count output_location error cancel_reason"
            " cancel_requested_at missing_since run_key scheduled_at",
        )


@dataclass(frozen=True)
class RevisionRecord:
    """One compiled revision of a spec (secrets redacted)."""

    fingerprint: str
    name: str
    target: str
    body: dict[str, Any]
    spec: dict[str, Any]
    policy: dict[str, Any]
    source: str | None
    created_at: datetime


@dataclass(frozen=True)
class Transition:
    """One event in a job's life: intent, submit, adopt, state change, cancel..."""

    id: int
    job_id: int
    name: str
    event: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    actor: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            **_json(self, "id job_id name event"),
            "from": self.from_state,
            "to": self.to_state,
            **_json(self, "reason actor at"),
        }


class DriftKind(StrEnum):
    """The kinds of drift batchspec reports. Drift is not health: a FAILED job
    is a health problem, a job someone cancelled by hand is drift."""

    SPEC_CHANGED = "spec_changed"
    CANCELLED_OUTSIDE = "cancelled_outside"
    DELETED_OUTSIDE = "deleted_outside"
    CHANGED_OUTSIDE = "changed_outside"
    UNKNOWN_JOB = "unknown_job"
    MISSED_TICKS = "missed_ticks"
    UNFINISHED_RUN = "unfinished_run"
    OUTPUTS_MISSING = "outputs_missing"
    OUTPUTS_CHANGED = "outputs_changed"


@dataclass(frozen=True)
class DriftFinding:
    """Something that no longer matches what batchspec declared or recorded."""

    kind: DriftKind
    detail: str
    name: str | None = None
    job_id: int | None = None
    backend: str | None = None
    remote_name: str | None = None

    @property
    def key(self) -> str:
        """Identity for de-duplication: the same finding seen again is one row."""
        return "|".join(
            str(part)
            for part in (
                self.kind.value,
                self.name,
                self.job_id,
                self.backend,
                self.remote_name,
                self.detail,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return _json(self, "kind name job_id backend remote_name detail")


@dataclass(frozen=True)
class DriftEvent:
    """A drift finding as recorded: when first and last seen, how often."""

    id: int
    finding: DriftFinding
    first_seen: datetime
    last_seen: datetime
    times_seen: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        seen = _json(self, "first_seen last_seen times_seen")
        return {"id": self.id, **self.finding.to_dict(), **seen}


@dataclass(frozen=True)
class AuditEntry:
    """Something done to the store itself (lease broken or taken over...)."""

    id: int
    at: datetime
    actor: str
    kind: str
    message: str


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds the controller lease and until when."""

    owner_id: str
    owner: str
    host: str
    pid: int
    command: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    def describe(self, now: datetime) -> str:
        """`owner (command), heartbeat 3s ago, expires in 57s` for messages."""
        beat = max(0.0, (now - self.heartbeat_at).total_seconds())
        left = (self.expires_at - now).total_seconds()
        expiry = f"expires in {left:.0f}s" if left >= 0 else f"expired {-left:.0f}s ago"
        return f"{self.owner} ({self.command}), last heartbeat {beat:.0f}s ago, {expiry}"


@dataclass(frozen=True)
class StateSnapshot:
    """What planning needs from the store, read in a handful of queries."""

    current: dict[str, JobRecord]
    followed: list[JobRecord]
    hash: str
    lineage: str
    serial: int
    attempts: dict[str, int] = field(default_factory=dict)
    names_used: frozenset[str] = frozenset()
    schedules: dict[str, ScheduleRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class RunStamp:
    """What makes a job row one run of a recurring spec."""

    key: str
    at: datetime
    inputs_digest: str | None = None


class RunOutcome(StrEnum):
    """What became of one tick of a recurring spec."""

    RUN = "run"
    MISSED = "missed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ScheduleRecord:
    """A recurring spec as recorded: ticks after `since` count; `cursor` is the
    latest tick decided; `inputs_digest` the snapshot the latest input-triggered
    run was made for; `error` the last failure to list its inputs."""

    name: str
    since: datetime
    cursor: datetime | None = None
    inputs_digest: str | None = None
    error: str | None = None
    error_at: datetime | None = None
    errors: int = 0
    fingerprint: str | None = None  # the revision last declared

    @property
    def decided_until(self) -> datetime:
        """Ticks up to this time are decided (run, missed or skipped)."""
        return max(self.since, self.cursor) if self.cursor else self.since


@dataclass(frozen=True)
class RunRecord:
    """One decided tick (or input change) and, when it ran, its latest job."""

    id: int
    name: str
    run_key: str
    scheduled_at: datetime
    outcome: RunOutcome
    reason: str | None
    fingerprint: str | None
    inputs_digest: str | None
    decided_at: datetime
    job: JobRecord | None = None

    @property
    def state(self) -> str:
        """The job's state, SUBMITTING, or MISSED / SKIPPED."""
        if self.outcome is not RunOutcome.RUN:
            return self.outcome.value.upper()
        if self.job is None or self.job.state is None:
            return "SUBMITTING"
        return self.job.state.value

    @property
    def finished(self) -> bool:
        """True for a decided tick that will not change any more."""
        return self.outcome is not RunOutcome.RUN or (self.job is not None and self.job.terminal)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        job = self.job
        return {
            **_json(self, "name run_key scheduled_at outcome state reason fingerprint"),
            **_json(self, "inputs_digest decided_at"),
            "jobId": job.id if job else None,
            **(_json(job, _RUN_JOB) if job else _NO_JOB),
        }
