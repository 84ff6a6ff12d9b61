"""Input snapshots of input-triggered specs, taken once per pass.

A spec with `trigger: inputs` and no schedule is listed on every pass (that
is what watching means); one with a schedule only when a tick is due, with
its input paths filled in for that tick. A listing that fails is recorded
on the spec's schedule (`status`, `runs` and the controller's log show it)
and nothing runs: the next pass lists again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from batchspec.io.guard import StorageError
from batchspec.io.snapshot import snapshot
from batchspec.model.jobs import CompiledJob
from batchspec.plan.recurring import InputsSeen, cron_of
from batchspec.schedule.variables import RunContext, render_text, run_key
from batchspec.state.records import ScheduleRecord
from batchspec.state.store import StateStore


def watch_inputs(
    store: StateStore,
    jobs: Iterable[CompiledJob],
    now: datetime,
    *,
    write: bool = True,
) -> dict[str, InputsSeen]:
    """The snapshot (or the listing error) of every input-triggered spec that
    needs one now; errors recorded in state unless `write` is False."""
    schedules = store.schedules()
    out: dict[str, InputsSeen] = {}
    for job in jobs:
        if job.effective.trigger != "inputs":
            continue
        sched = schedules.get(job.name)
        paths = _paths_now(job, sched, now)
        if paths is None:
            continue
        base = Path(job.source).resolve().parent if job.source else Path.cwd()
        try:
            snap = snapshot(paths, base)
        except StorageError as exc:
            message = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
            out[job.name] = InputsSeen(error=message)
            if write and sched is not None:
                store.record_inputs_error(job.name, message)
            continue
        out[job.name] = InputsSeen(snap.digest, snap.count)
        if write and sched is not None and sched.error:
            store.record_inputs_seen(job.name)
    return out


def _paths_now(job: CompiledJob, sched: ScheduleRecord | None, now: datetime) -> list[str] | None:
    """The input paths to list now, or None when no listing is needed."""
    paths = list(job.effective.input.paths or ())
    if not paths:
        return None
    cron = cron_of(job)
    if cron is None:
        return paths
    if sched is None:
        return None  # recorded first: ticks count from then
    due, _ = cron.between(sched.decided_until, now, 1)
    if not due:
        return None
    values = RunContext(run_key(due[-1]), due[-1], cron.zone_name).values()
    return [render_text(p, values) for p in paths]
