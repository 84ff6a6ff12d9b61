"""`batchspec get JOB`: one job in detail (record, revision, recent history, drift)."""

from __future__ import annotations

import argparse
from typing import Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import add_output_option
from batchspec.errors import StateError

EXAMPLES = [
    ("batchspec get review_sentiment", "the current job of a spec: state, counts, history"),
    ("batchspec get review_sentiment --body -o json", "with the submitted request body, as JSON"),
]


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "get",
        help="show one job in detail",
        description="JOB is a spec name (its current job), a remote job name, or #ID.",
    )
    p.add_argument("job", help="spec name, remote name or #ID")
    add_output_option(p)
    p.add_argument("--body", action="store_true", help="include the recorded request body")
    rt.add_state_option(p)


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
    if args.output == "json":
        rt.say(rt.dumps(data))
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
        rt.say("\nbody:\n" + rt.dumps(revision.body))
    return 0
