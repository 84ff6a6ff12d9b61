"""`batchspec get JOB`: one job in detail (record, revision, recent history, drift)."""

from __future__ import annotations

import argparse
from typing import Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import dumps, emit_json, wants_json
from batchspec.errors import StateError


def _change(before: str | None, after: str | None) -> str:
    if not after:
        return ""
    return f"{before} -> {after}" if before else after


def find(store: Any, ref: str) -> Any:
    """The job `ref` names, or a clear error."""
    record = store.find_job(ref)
    if record is None:
        raise StateError(
            f"no job {ref!r} in state {store.path or '(none yet)'}",
            hint="`batchspec status --all` lists every recorded job",
        )
    return record


def run(args: argparse.Namespace) -> int:
    """Print the job."""
    with rt.open_state(args, create=False, readonly=True) as store:
        record = find(store, args.job)
        revision = store.revision(record.fingerprint)
        history = store.transitions(job_id=record.id, limit=20)
        drift = [
            e for e in store.drift_events(name=record.name) if e.finding.job_id in (record.id, None)
        ]
    data = record.to_dict()
    data["policy"] = revision.policy if revision else None
    data["transitions"] = [t.to_dict() for t in history]
    data["drift"] = [e.to_dict() for e in drift]
    if args.body and revision:
        data["body"] = revision.body
    if wants_json(args):
        emit_json(data)
        return 0
    for key in (
        "name",
        "state",
        "disposition",
        "target",
        "remoteName",
        "fingerprint",
        "attempt",
        "retry",
        "submittedAt",
        "endedAt",
        "completedCount",
        "failedCount",
        "totalCount",
        "outputLocation",
        "error",
        "cancelReason",
        "missingSince",
        "source",
    ):
        if data.get(key) not in (None, ""):
            rt.say(f"{key + ':':<16} {data[key]}")
    rt.say("\nhistory:")
    for t in history:
        change = _change(t.from_state, t.to_state)
        rt.say(f"  {t.at:%Y-%m-%d %H:%M:%S}Z  {t.event:<16} {change}  {t.reason or ''}".rstrip())
    if drift:
        rt.say("\ndrift:")
        for e in drift:
            rt.say(
                f"  {e.last_seen:%Y-%m-%d %H:%M:%S}Z  {e.finding.kind.value}: {e.finding.detail}"
            )
    if args.body and revision:
        rt.say("\nbody:\n" + dumps(revision.body))
    return 0
