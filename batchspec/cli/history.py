"""`batchspec history [JOB]`: every recorded event, oldest first."""

from __future__ import annotations

import argparse
from typing import Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json, wants_json


def run(args: argparse.Namespace) -> int:
    """Print the events."""
    with rt.open_state(args, create=False, readonly=True) as store:
        if args.names:
            return _names(store, args.output)
        events = store.transitions(name=args.job, limit=args.limit)
        drift = store.drift_events(name=args.job, limit=args.limit) if args.drift else []
        audit = store.audit_entries(limit=args.limit) if args.audit else []
    if wants_json(args):
        emit_json(
            {
                "transitions": [t.to_dict() for t in events],
                "drift": [e.to_dict() for e in drift],
                "audit": [
                    {
                        "at": a.at.isoformat(),
                        "actor": a.actor,
                        "kind": a.kind,
                        "message": a.message,
                    }
                    for a in audit
                ],
            }
        )
        return 0
    if not events and not drift and not audit:
        rt.say("No history recorded" + (f" for {args.job}." if args.job else "."))
        return 0
    rows = [
        [
            f"{t.at:%Y-%m-%d %H:%M:%S}Z",
            t.name,
            t.event,
            _change(t.from_state, t.to_state),
            t.reason or "",
            t.actor,
        ]
        for t in events
    ]
    if rows:
        rt.say(rt.table(rows, ["AT", "JOB", "EVENT", "STATE", "REASON", "BY"]))
    if drift:
        rt.say("\ndrift:")
        for e in drift:
            rt.say(
                f"  {e.last_seen:%Y-%m-%d %H:%M:%S}Z  {e.finding.name or '-'}"
                f"  {e.finding.kind.value}: {e.finding.detail} (x{e.times_seen})"
            )
    if audit:
        rt.say("\naudit:")
        for a in audit:
            rt.say(f"  {a.at:%Y-%m-%d %H:%M:%S}Z  {a.kind}  {a.message}  (by {a.actor})")
    return 0


def _change(before: str | None, after: str | None) -> str:
    if not after:
        return ""
    return f"{before} -> {after}" if before else after


def _names(store: Any, output: str) -> int:
    """Every name ever used: job names are never to be reused (ML Engine
    keeps every job name ever created in a project)."""
    rows = [
        (kind, backend, name, first)
        for kind in ("spec", "remote")
        for backend, name, first in store.names_used(kind)
    ]
    if output == "json":
        emit_json(
            [
                {"kind": k, "backend": b or None, "name": n, "firstUsedAt": f.isoformat()}
                for k, b, n, f in rows
            ]
        )
        return 0
    rt.say(
        rt.table(
            [[k, b or "-", n, f"{f:%Y-%m-%d %H:%M:%S}Z"] for k, b, n, f in rows],
            ["KIND", "BACKEND", "NAME", "FIRST USED"],
        )
    )
    return 0
