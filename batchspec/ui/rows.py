"""One row of the jobs list, as plain data the template and the JSON share.

A row merges what state recorded with what the local engine reports now
(`live`): the state, counts and times of a running local job come from its
folder, marked as such, until a controller records them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from batchspec.model.camel import camel_fields
from batchspec.model.enums import JobState
from batchspec.model.limits import span_text
from batchspec.state.records import JobRecord
from batchspec.ui.live import LiveStatus

SUBMITTING = "SUBMITTING"
_TONES = {
    JobState.SUCCEEDED: "ok",
    JobState.PARTIALLY_SUCCEEDED: "warn",
    JobState.FAILED: "bad",
    JobState.EXPIRED: "bad",
    JobState.CANCELLED: "off",
    JobState.CANCELLING: "off",
    JobState.PAUSED: "warn",
    JobState.RUNNING: "run",
}


def spec_labels(spec: Mapping[str, Any] | None) -> dict[str, str]:
    """`metadata.labels` of a recorded spec document, as text."""
    meta = (spec or {}).get("metadata") or {}
    return {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}


def tone(state: JobState | None) -> str:
    """A colour class for a state: ok, warn, bad, off, run or wait."""
    return _TONES.get(state, "wait") if state is not None else "wait"


def iso(moment: datetime | None) -> str | None:
    """`2026-05-01T10:11:12Z` (UTC, seconds) for `<time datetime>` and JSON."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shown_time(moment: datetime | None) -> str:
    """`2026-05-01 10:11:12Z`, or `-`."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def duration_text(seconds: float | None) -> str:
    """`45s`, `3m 07s`, `2h 05m`, `1d 3h`, or `-`."""
    if seconds is None:
        return "-"
    return span_text(seconds, gap=" ", padded_hours=False)


@dataclass(frozen=True)
class JobRow:
    """What the jobs list shows for one job."""

    id: int
    name: str
    target: str
    backend: str
    state: str
    tone: str
    terminal: bool
    disposition: str
    attempt: int
    revision: str
    completed: int
    failed: int
    total: int | None
    percent: float | None
    started: datetime | None
    ended: datetime | None
    seconds: float | None
    output: str | None
    remote_name: str | None
    error: str | None
    live: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> int:
        """Instances finished either way (predicted or failed)."""
        return self.completed + self.failed

    @property
    def progress_text(self) -> str:
        """`2500/3000 (83%)`, `12/?` or `-`."""
        if self.total is None and not self.done:
            return "-"
        total = "?" if self.total is None else str(self.total)
        pct = "" if self.percent is None else f" ({self.percent:.0f}%)"
        return f"{self.done}/{total}{pct}"

    @property
    def started_text(self) -> str:
        """Start time for the table."""
        return shown_time(self.started)

    @property
    def duration(self) -> str:
        """Run time so far (or in all, once ended)."""
        return duration_text(self.seconds)

    def to_json(self) -> dict[str, Any]:
        """The row as the JSON endpoint and the page's script see it."""
        head = "id name target state tone terminal disposition attempt revision completed failed"
        tail = "started started_text ended duration output remote_name error live labels"
        return {
            **camel_fields(self, head + " total percent"),
            "progress": self.progress_text,
            **camel_fields(self, tail, time=iso),
        }


def job_row(
    record: JobRecord,
    *,
    now: datetime,
    live: LiveStatus | None = None,
    labels: dict[str, str] | None = None,
) -> JobRow:
    """A row from a recorded job, with the engine's live status laid over it."""
    state = record.state
    completed, failed, total = record.completed_count, record.failed_count, record.total_count
    started, ended, error = record.started_at or record.submitted_at, record.ended_at, record.error
    if live is not None:
        state = live.state
        completed, failed = live.completed, live.failed
        total = live.total if live.total is not None else total
        started = live.started or started
        ended = live.ended
        error = live.error or error
    terminal = state is not None and state.terminal
    percent: float | None = None
    if total:
        percent = min(100.0, 100.0 * (completed + failed) / total)
    elif terminal and state is not None and state.successful:
        percent = 100.0
    seconds = None
    if started is not None:
        seconds = ((ended or now) - started).total_seconds() if (ended or not terminal) else None
    return JobRow(
        id=record.id,
        name=record.name,
        target=record.target,
        backend=record.backend,
        state=state.value if state is not None else SUBMITTING,
        tone=tone(state),
        terminal=terminal,
        disposition=record.disposition.value,
        attempt=record.attempt,
        revision=record.short_fingerprint,
        completed=completed,
        failed=failed,
        total=total,
        percent=percent,
        started=started,
        ended=ended,
        seconds=seconds,
        output=record.output_location,
        remote_name=record.remote_name,
        error=error,
        live=live is not None,
        labels=dict(labels or {}),
    )
