"""`batchspec report [PATHS] --html report.html`: one self-contained HTML file
with the plan, status, drift and plots, for CI artifacts and pull requests.

Reads only: the specs under PATHS (default `specs/` when present) and the
recorded state; it calls no backend. Exit 0 when written, 1 on errors (a
spec with errors still gets its report, with the errors in it, and exit 1,
like `batchspec plan`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from batchspec.cli import _runtime as rt


def run(args: argparse.Namespace) -> int:
    """Build and write the report."""
    from batchspec.cli.ui import require_extra
    from batchspec.errors import BatchspecError

    require_extra("report")
    if args.jobs < 0:
        raise BatchspecError(f"--jobs must be 0 or more, not {args.jobs}")
    from batchspec.ui.report import build_report, write_report

    paths = rt.present_paths(args)
    target = Path(args.html)
    if target.is_dir():
        raise BatchspecError(f"--html {target} is a folder", hint="name a file: --html report.html")
    with rt.open_state(args, create=False) as store:  # remote state: a snapshot
        report = build_report(store, paths, jobs=args.jobs)
    try:
        written = write_report(report, target)
    except OSError as exc:
        raise BatchspecError(f"cannot write {target}: {exc.strerror}") from exc
    size = written.stat().st_size
    rt.warn(
        f"report written to {written} ({size / 1e6:.1f} MB): {len(report.rows)} job(s),"
        f" {len(report.drift)} drift finding(s)"
        + (f", plan: {report.plan.summary()}" if report.plan else "")
    )
    return 1 if report.plan is not None and report.plan.has_errors else 0
