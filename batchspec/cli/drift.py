"""`batchspec drift [PATHS]`: what no longer matches, read-only.

Reports specs changed after their job ran, jobs cancelled, deleted or changed
outside batchspec, jobs with batchspec's labels that state does not know, and
outputs missing or changed after success. Changes no job; records every
finding with a timestamp. Exit 0 no drift, 2 drift, 1 errors.
"""

from __future__ import annotations

import argparse

from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json, wants_json


def run(args: argparse.Namespace) -> int:
    """Detect, record, report."""
    from batchspec.plan import load_desired
    from batchspec.reconcile.drift import detect_drift

    paths = rt.present_paths(args)
    desired = load_desired(paths, select=args.select, targets=args.targets) if paths else None
    # Findings are recorded, so a state file is created if there is none yet.
    with rt.open_state(args, create=True, write="drift") as store:
        report = detect_drift(
            store,
            rt.registry(),
            desired=desired,
            whole=not args.paths,
            outputs=not args.no_outputs,
        )
        events = store.record_drift(report.findings)
        now = store.now()
    problems = [
        f"backend {n} could not be listed: {m}" for n, m in sorted(report.unobserved.items())
    ]
    if desired is not None:
        problems += [f"{p.name or p.file}: {p.message}" for p in desired.problems]
    if wants_json(args):
        emit_json({"drift": [e.to_dict() for e in events], "errors": problems})
    else:
        if not events:
            rt.say("No drift.")
        else:
            rows = [
                [
                    e.finding.kind.value,
                    e.finding.name or "-",
                    e.finding.remote_name or "-",
                    e.finding.detail,
                    f"first seen {rt.ago(e.first_seen, now)}, x{e.times_seen}",
                ]
                for e in events
            ]
            rt.say(rt.table(rows, ["KIND", "JOB", "REMOTE", "DETAIL", "RECORDED"]))
            rt.say(f"\n{len(events)} drift finding(s).")
        for line in problems:
            rt.warn(f"error: {line}")
    if problems:
        return 1
    return 2 if events else 0
