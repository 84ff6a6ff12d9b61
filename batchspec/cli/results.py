"""`batchspec results JOB`: the predictions, joined to their input keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from batchspec.cli import _runtime as rt


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "results",
        help="print a job's predictions joined to their input keys",
        description="Reads the job's result files (and, with --errors, its error files) and"
        " prints one row per instance with its key.",
    )
    p.add_argument("job", help="spec name, remote name or #ID")
    p.add_argument("--output", "-o", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--errors", action="store_true", help="include instances that failed")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    rt.add_state_option(p)


def run(args: argparse.Namespace) -> int:
    """Stream the rows."""
    from batchspec.cli.get import find
    from batchspec.errors import BackendError, BatchspecError
    from batchspec.reconcile.results import (
        ResultsError,
        iter_rows,
        list_outputs,
        prediction_columns,
        split_outputs,
        write_csv,
        write_jsonl,
    )

    with rt.open_state(args, create=False) as store:
        record = find(store, args.job)
        revision = store.revision(record.fingerprint)
    key_field = None
    if revision is not None:
        key_field = revision.spec.get("spec", {}).get("input", {}).get("keyField")
    files: list[str] = []
    if record.remote_name:
        try:
            files = rt.registry()(record.backend).outputs(record.remote_name)
        except BackendError:
            files = []
    if not files and record.output_location:
        files = list_outputs(record.output_location)
    results, errors = split_outputs(files)
    if not results and not errors:
        state = record.state.value if record.state else "not submitted"
        raise BatchspecError(
            f"job {record.name!r} ({state}) has no result files yet",
            hint="results appear when the job ends; `batchspec apply --wait` follows it",
        )
    chosen = errors if args.errors else []

    def rows() -> Any:
        return iter_rows(results, chosen, key_field=key_field)

    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout  # noqa: SIM115
    try:
        if args.output == "csv":
            count = write_csv(rows(), out, columns=prediction_columns(rows()))
        else:
            count = write_jsonl(rows(), out)
    except ResultsError as exc:
        raise BatchspecError(f"cannot read the results: {exc}") from exc
    finally:
        if args.out:
            out.close()
    if args.out:
        rt.warn(f"{count} row(s) written to {args.out}")
    return 0
