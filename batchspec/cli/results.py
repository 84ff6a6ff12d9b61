"""`batchspec results JOB`: the predictions, joined to their input keys.

Reads the job's outputs through `batchspec.results` (every file shape Vertex
AI, ML Engine and the local engine write, from local paths, gs:// or
BigQuery). With `--inputs` it also reads the spec's inputs and reports every
input instance: predicted, failed, or missing from the outputs. Damaged
outputs (checked against the engine's manifest; lines that are not records)
are reported after the rows, one line per file with counts, and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from batchspec.cli import _runtime as rt
from batchspec.errors import BatchspecError


def run(args: argparse.Namespace) -> int:
    """Stream the rows, then report damaged outputs (exit 1)."""
    from batchspec.cli.get import find
    from batchspec.results import Outcome, OutputCheck, job_results
    from batchspec.results.write import prediction_columns, write_csv, write_jsonl

    with rt.open_state(args, create=False, readonly=True) as store:
        record = _run_job(store, args) if args.run or args.latest else find(store, args.job)
        revision = store.revision(record.fingerprint)
    spec = revision.spec.get("spec", {}) if revision is not None else {}
    key_field = spec.get("input", {}).get("keyField")
    outputs = _outputs(record)
    inputs = _inputs(spec, record) if args.inputs else None
    shown = {Outcome.PREDICTED, Outcome.MISSING, Outcome.UNMATCHED}
    if args.errors:
        shown.add(Outcome.FAILED)
    check = OutputCheck()

    def rows(check: OutputCheck) -> Any:
        joined = job_results(
            outputs,
            inputs=inputs,
            key_field=key_field,
            data_format=spec.get("input", {}).get("format", "JSONL"),
            output_format=spec.get("output", {}).get("format"),
            check=check,
        )
        return (r for r in joined if r.outcome in shown)

    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout  # noqa: SIM115
    try:
        if args.output == "csv":
            columns = prediction_columns(rows(OutputCheck()))
            count = write_csv(rows(check), out, columns=columns)
        else:
            count = write_jsonl(rows(check), out)
    finally:
        if args.out:
            out.close()
        else:
            out.flush()
    if args.out:
        rt.warn(f"{count} row(s) written to {args.out}")
    if not check.ok:
        for damage in check.damage:
            rt.warn(f"damaged: {damage}")
        raise BatchspecError(
            f"the outputs of {record.name!r} are damaged: {check.summary()}",
            hint="the rows above are what could be read; run the job again to rewrite its outputs",
        )
    return 0


def _run_job(store: Any, args: argparse.Namespace) -> Any:
    """The job of the run `--run KEY` names, or of the newest successful run."""
    runs = [r for r in store.runs(args.job) if r.job is not None]
    if args.latest:
        done = [r for r in runs if r.job.state is not None and r.job.state.successful]
        if not done:
            raise BatchspecError(
                f"no run of {args.job!r} has succeeded yet",
                hint=f"`batchspec runs {args.job}` shows its runs",
            )
        return done[0].job
    exact = [r for r in runs if r.run_key == args.run]
    found = exact or [r for r in runs if r.run_key.startswith(args.run)]
    if len(found) != 1:
        message = (
            f"{len(found)} runs of {args.job!r} have run keys starting with {args.run!r}"
            if found
            else f"no run of {args.job!r} has run key {args.run!r}"
        )
        raise BatchspecError(
            message,
            hint=f"`batchspec runs {args.job} --all` lists the run keys",
        )
    return found[0].job


def _outputs(record: Any) -> list[str]:
    """Where the job's outputs are: the backend's answer, else the recorded folder."""
    from batchspec.errors import BackendError

    outputs: list[str] = []
    if record.remote_name:
        try:
            outputs = rt.registry()(record.backend).outputs(record.remote_name)
        except (BackendError, OSError):  # a damaged folder is read (and reported) below
            outputs = []
    if not outputs and record.output_location:
        outputs = [record.output_location]
    if not outputs:
        state = record.state.value if record.state else "not submitted"
        raise BatchspecError(
            f"job {record.name!r} ({state}) has no result files yet",
            hint="results appear when the job ends; `batchspec apply --wait` follows it",
        )
    return outputs


def _inputs(spec: dict[str, Any], record: Any) -> list[str]:
    """The spec's input locations, relative paths resolved against its file."""
    inp = spec.get("input", {})
    if inp.get("bigquery"):
        return [inp["bigquery"]]
    paths: list[str] = list(inp.get("paths") or [])
    if not paths:
        raise BatchspecError(f"the recorded spec of {record.name!r} names no inputs")
    if getattr(record, "run_key", None) and record.scheduled_at is not None:
        from batchspec.schedule.variables import RunContext, render_text

        zone = (spec.get("schedule") or {}).get("timeZone") or "UTC"
        values = RunContext(record.run_key, record.scheduled_at, zone).values()
        paths = [render_text(p, values) for p in paths]
    base = Path(record.source).parent if getattr(record, "source", None) else Path.cwd()
    return [p if "://" in p or Path(p).is_absolute() else str(base / p) for p in paths]
