"""Everything the job page shows, gathered from the store in one read.

The recorded revision (its spec and compiled body, secrets redacted again
through the state's redaction so nothing a later rule catches slips
through), the diff to the revision that ran before it, every transition,
drift findings, the other runs of the same name and where the outputs are.
Result files and plots are read separately (`samples`, `plots`): they are
files, not state, and must not hold the state thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from batchspec.plan.diff import body_diff
from batchspec.state.records import DriftEvent, JobRecord, RevisionRecord, Transition
from batchspec.state.redact import redact
from batchspec.state.store import StateStore
from batchspec.ui.live import LiveView
from batchspec.ui.rows import JobRow, duration_text, iso, job_row, shown_time, spec_labels
from batchspec.ui.samples import is_local

RUNS_SHOWN = 50


@dataclass(frozen=True)
class TimelineItem:
    """One transition, placed on the job's timeline."""

    at: datetime
    offset: str
    event: str
    change: str
    reason: str | None
    actor: str

    def to_json(self) -> dict[str, Any]:
        """JSON for the page's script."""
        return {
            "at": iso(self.at),
            "atText": shown_time(self.at),
            "offset": self.offset,
            "event": self.event,
            "change": self.change,
            "reason": self.reason,
            "actor": self.actor,
        }


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff with its kind: add, del, hunk or same."""

    kind: str
    text: str


@dataclass
class JobDetail:
    """The job page's data."""

    record: JobRecord
    row: JobRow
    revision: RevisionRecord | None
    spec_text: str
    body_text: str
    policy_text: str
    labels: dict[str, str]
    previous: JobRecord | None
    diff: list[DiffLine]
    timeline: list[TimelineItem]
    drift: list[DriftEvent]
    runs: list[JobRow]
    run_records: list[JobRecord] = field(default_factory=list)
    outputs_local: bool = False

    @property
    def name(self) -> str:
        """The spec name."""
        return self.record.name

    @property
    def results_command(self) -> str:
        """The command that prints this job's predictions."""
        return f"batchspec results '#{self.record.id}'"

    def live_json(self) -> dict[str, Any]:
        """What the page's script refreshes while the job moves."""
        return {
            "row": self.row.to_json(),
            "timeline": [t.to_json() for t in self.timeline],
        }


def pretty(value: Any) -> str:
    """Redacted, sorted, indented JSON: the canonical order fingerprints use."""
    return json.dumps(redact(value), indent=2, sort_keys=True, ensure_ascii=False, default=str)


def spec_yaml(spec: dict[str, Any]) -> str:
    """The recorded spec document as YAML (how it was written), redacted."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(_without_nulls(redact(spec)), out)
    return out.getvalue()


def _without_nulls(value: Any) -> Any:
    """The document without the unset (null) fields recorded specs carry: what a
    person wrote, with the defaults batchspec filled in."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _timeline(transitions: list[Transition]) -> list[TimelineItem]:
    if not transitions:
        return []
    start = transitions[0].at
    items = []
    for t in transitions:
        change = f"{t.from_state} → {t.to_state}" if t.from_state else (t.to_state or "")
        items.append(
            TimelineItem(
                at=t.at,
                offset="+" + duration_text((t.at - start).total_seconds()),
                event=t.event,
                change=change,
                reason=t.reason,
                actor=t.actor,
            )
        )
    return items


def _diff(before: RevisionRecord | None, after: RevisionRecord | None) -> list[DiffLine]:
    if before is None or after is None:
        return []
    lines = body_diff(redact(before.body), redact(after.body))
    out = []
    for line in lines:
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        out.append(DiffLine(kind, line))
    return out


def load_detail(store: StateStore, job_id: int, live: LiveView, now: datetime) -> JobDetail | None:
    """The job page of job `job_id` (None when state has no such job)."""
    record = _job(store, job_id)
    if record is None:
        return None
    runs = store.all_jobs(name=record.name)
    earlier = [r for r in runs if r.id < record.id and r.fingerprint != record.fingerprint]
    previous = earlier[-1] if earlier else None
    revisions = store.revisions([record.fingerprint] + ([previous.fingerprint] if previous else []))
    revision = revisions.get(record.fingerprint)
    labels = spec_labels(revision.spec) if revision is not None else {}
    drift = [
        e for e in store.drift_events(name=record.name) if e.finding.job_id in (record.id, None)
    ]
    newest = sorted(runs, key=lambda r: r.id, reverse=True)[:RUNS_SHOWN]
    return JobDetail(
        record=record,
        row=job_row(record, now=now, live=live.status(record), labels=labels),
        revision=revision,
        spec_text=spec_yaml(revision.spec) if revision else "",
        body_text=pretty(revision.body) if revision else "",
        policy_text=pretty(revision.policy) if revision else "",
        labels=labels,
        previous=previous,
        diff=_diff(revisions.get(previous.fingerprint) if previous else None, revision),
        timeline=_timeline(store.transitions(job_id=record.id)),
        drift=drift,
        runs=[job_row(r, now=now) for r in newest],
        run_records=newest,
        outputs_local=bool(record.output_location and is_local(record.output_location)),
    )


def _job(store: StateStore, job_id: int) -> JobRecord | None:
    from batchspec.errors import StateError

    try:
        return store.job(job_id)
    except StateError:
        return None
