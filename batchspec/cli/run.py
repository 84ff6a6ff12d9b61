"""`batchspec run SPEC`: run one spec on the embedded local engine (or a Ray
cluster) and follow it.

The job is a detached, service-like job (see `batchspec.backends.local`):
this command submits it (idempotently: the same spec attaches to the job it
already started, resuming it if its supervisor died), then follows it with a
progress bar and prints a summary. Ctrl-C stops following, not the job.

The job is recorded in state exactly as `apply` records it (the same intent,
record, fingerprint and transitions, `batchspec.reconcile.single`), so
`status`, `get`, `results`, `logs` and `drift` know it and a later `apply`
of the same spec finds it instead of starting it again.

`--target ray` (the default for specs with `target: ray`) submits the same
job to a Ray cluster through its Jobs API instead (see
`batchspec.backends.ray`); `batchspec logs SPEC` shows its log.

Exit codes: 0 when the job ends SUCCEEDED or PARTIALLY_SUCCEEDED (or with
--detach once it is submitted), 1 otherwise, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import console_for, emit_json, wants_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from batchspec.backends.base import Backend
    from batchspec.model.enums import Target
    from batchspec.model.jobs import CompiledJob, RemoteJob

POLL_SECONDS = 0.2
RAY_POLL_SECONDS = 1.0  # each look at a Ray job is two HTTP calls, one reading its log
ERROR_SAMPLES = 3


def choose_target(args: argparse.Namespace, spec_target: str) -> Target:
    """The --target flag, else ray for `target: ray` specs, else local."""
    from batchspec.model.enums import Target

    if args.target:
        return Target(args.target)
    return Target.RAY if spec_target == Target.RAY.value else Target.LOCAL


def compile_one(
    args: argparse.Namespace,
    console: Console,
    *,
    choose: Callable[[str], Target] | None = None,
) -> CompiledJob | None:
    """The one job of `args.spec` (or `--name`) compiled for the chosen target
    (`choose(spec_target)`, by default `choose_target`); None after printing
    the diagnostics when it does not compile."""
    from batchspec.compile.paths import compile_paths, require_matches
    from batchspec.errors import BatchspecError
    from batchspec.validate.report import render_text

    names = [args.name] if args.name else []
    spec = getattr(args, "spec", None) or args.ref
    compiled = compile_paths(
        [spec],
        select=names,
        target=lambda loaded: (choose or (lambda t: choose_target(args, t)))(
            loaded.spec.spec.target.value
        ),
        keep_going=False,
    )
    if not compiled.validation.ok:
        console.print(
            render_text(compiled.diagnostics, files=compiled.files, specs=0), markup=False
        )
        return None
    require_matches(compiled.validation, names, spec)
    chosen = len(compiled.jobs) + len(compiled.failures)
    if chosen != 1:
        listed = ", ".join(s.name for s in compiled.validation.specs)
        raise BatchspecError(
            f"{spec} holds {chosen} jobs ({listed})", hint="choose one with --name"
        )
    if compiled.failures:
        problems = list(compiled.failures[0].diagnostics)
        console.print(render_text(problems, files=compiled.files, specs=0), markup=False)
        return None
    return compiled.jobs[0]


def run(args: argparse.Namespace) -> int:
    """Submit, follow, summarise."""
    console = console_for(args)
    job = compile_one(args, console)
    if job is None:
        return 1
    backend = make_backend(args, job)
    if args.cancel:
        return _cancel(args, backend, job, console)
    from batchspec.reconcile.single import record_outcome, start_recorded

    actor = rt.actor("run")
    with rt.open_state(args, create=True, write="run") as store:
        started = start_recorded(store, backend, job, actor=actor, rerun=args.rerun, log=rt.warn)
    remote = started.remote
    where = _where(backend, remote, args)
    console.print(f"job [bold]{remote.remote_name}[/] ({remote.state.value}), {where}")
    if remote.terminal:
        console.print("this exact spec already ran; `--rerun` runs it again")
    if args.detach:
        console.print(
            f"it runs in the background; follow it with `batchspec run {args.spec}`,"
            f" stop it with `batchspec run {args.spec} --cancel`"
        )
        if wants_json(args):
            emit_json(job_document(backend, remote))
        return 0
    try:
        final = _follow(backend, remote, console)
    except KeyboardInterrupt:
        console.print(
            f"\nstopped following; the job keeps running. Follow it again with"
            f" `batchspec run {args.spec}`, stop it with `batchspec run {args.spec} --cancel`."
        )
        return 130
    with rt.open_state(args, create=True, write="run") as store:
        record_outcome(store, started.record, final, actor=actor)
    _summary(backend, final, console, args)
    if wants_json(args):
        emit_json(job_document(backend, final))
    return 0 if final.state.successful else 1


def _cancel(args: argparse.Namespace, backend: Backend, job: CompiledJob, console: Any) -> int:
    """Cancel the spec's job and record the request (a CANCELLED job is then no drift)."""
    from batchspec.reconcile.single import record_cancel

    remote = backend.cancel(remote_name_of(backend, job))
    with rt.open_state(args, create=False, write="run") as store:
        record_cancel(
            store, backend.name, remote, actor=rt.actor("run"), reason="batchspec run --cancel"
        )
    console.print(f"{remote.remote_name}: {remote.state.value}")
    if wants_json(args):
        emit_json(job_document(backend, remote))
    return 0


def job_document(backend: Any, job: RemoteJob) -> dict[str, Any]:
    """`run -o json`: the job as the backend reports it, and its output files."""
    return {
        "name": job.job_name,
        "backend": job.backend,
        "remoteName": job.remote_name,
        "fingerprint": job.fingerprint,
        "state": job.state.value,
        "terminal": job.terminal,
        "completedCount": job.completed_count,
        "failedCount": job.failed_count,
        "totalCount": job.total_count,
        "createTime": job.create_time.isoformat() if job.create_time else None,
        "startTime": job.start_time.isoformat() if job.start_time else None,
        "endTime": job.end_time.isoformat() if job.end_time else None,
        "outputLocation": job.output_location,
        "outputs": backend.outputs(job.remote_name) if job.terminal else [],
        "error": job.error,
    }


def make_backend(args: argparse.Namespace, job: CompiledJob) -> Backend:
    """The local backend, or the Ray backend for jobs compiled for Ray."""
    from batchspec.model.enums import Target

    if job.target is Target.RAY:
        from batchspec.backends.ray import RayBackend

        return RayBackend(args.address)
    from batchspec.backends.local import LocalBackend

    return LocalBackend(getattr(args, "home", None))


def remote_name_of(backend: Backend, job: CompiledJob) -> str:
    """The remote name of `job`'s job on `backend` (JobNotFoundError when never submitted)."""
    from batchspec.backends.base import find_job
    from batchspec.errors import JobNotFoundError

    found = find_job(backend, job)
    if found is None:
        where = "this Ray cluster" if backend.name == "ray" else f"the {backend.name} backend"
        raise JobNotFoundError(
            f"job {job.name} ({job.short_fingerprint}) was never submitted to {where}",
            hint=f"run it first with `batchspec run SPEC --target {backend.name}`",
        )
    return found.remote_name


def _where(backend: Backend, remote: RemoteJob, args: argparse.Namespace) -> str:
    from batchspec.backends.base import JobFolders

    if isinstance(backend, JobFolders):
        return f"folder {backend.job_dir(remote.remote_name)}"
    return f"log: batchspec logs {args.spec} --target {backend.name}"


def _follow(backend: Backend, remote: RemoteJob, console: Console) -> RemoteJob:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from batchspec.model.enums import JobState

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(
            remote.job_name, total=remote.total_count, failed=0, state=remote.state.value
        )
        while True:
            done = remote.completed_count + remote.failed_count
            progress.update(
                task,
                completed=done,
                total=remote.total_count if remote.total_count is not None else None,
                failed=f"{remote.failed_count:,}",
                state=remote.state.value,
            )
            if remote.terminal or remote.state is JobState.PAUSED:
                if remote.total_count is None and remote.terminal:
                    progress.update(task, total=done)
                return remote
            time.sleep(POLL_SECONDS if backend.name == "local" else RAY_POLL_SECONDS)
            remote = backend.get(remote.remote_name)


def _summary(backend: Backend, job: RemoteJob, console: Console, args: argparse.Namespace) -> None:
    from batchspec.model.enums import JobState

    colour = {"SUCCEEDED": "green", "PARTIALLY_SUCCEEDED": "yellow"}.get(job.state.value, "red")
    took = ""
    if job.start_time and job.end_time:
        seconds = (job.end_time - job.start_time).total_seconds()
        done = job.completed_count + job.failed_count
        rate = f", {done / seconds:,.0f}/s" if seconds > 0 and done else ""
        took = f" in {seconds:.1f}s{rate}"
    console.print(
        f"[bold]{job.job_name}[/] [{colour}]{job.state.value}[/]: {job.completed_count:,}"
        f" predictions, {job.failed_count:,} failed{took}"
    )
    from batchspec.results.formats import RESULTS_PREFIX

    files = backend.outputs(job.remote_name)
    results = sum(1 for f in files if RESULTS_PREFIX in f)
    if (job.output_location or "").startswith("bq://"):
        shown = ", ".join(files) if files else "no tables (they are loaded when the job succeeds)"
        console.print(f"  outputs  {shown}", markup=False)
    else:
        console.print(
            f"  outputs  {job.output_location} ({results} results file(s),"
            f" {len(files) - results} errors file(s), batchspec-manifest.json)"
        )
    console.print(f"  job      {_where(backend, job, args)}", markup=False)
    if job.error:
        from batchspec.backends.base import HasDetails

        console.print(f"  [red]error[/]    {job.error}", markup=True)
        details = backend.details(job.remote_name) if isinstance(backend, HasDetails) else {}
        hint = (details.get("error") or {}).get("hint")
        if hint:
            console.print(f"  hint     {hint}", markup=False)
    if job.state is JobState.PAUSED:
        return
    if job.failed_count:
        for message in _error_samples(files):
            console.print(f"  failed   {message}", markup=False)


def _error_samples(files: list[str]) -> list[str]:
    """The first few error messages from the errors files (local files only)."""
    import msgspec

    out: list[str] = []
    for path in files:
        if "prediction.errors_stats-" not in path or "://" in path:
            continue
        try:
            with open(path, "rb") as fh:
                for line in fh:
                    out.append(msgspec.json.decode(line)["error"]["message"])
                    if len(out) >= ERROR_SAMPLES:
                        return out
        except (OSError, msgspec.DecodeError, KeyError, TypeError):
            continue
    return out
