"""Before the first shard: the plan, the output location, what is already done.

* The shard plan is made once, on the first start, and saved in the job
  folder; a restart reuses it (after checking the inputs did not change), so
  a resumed job cuts its inputs exactly as the first start did.
* On the first start the output location is checked: results already there
  are refused unless `output.overwrite: true`, and no other live job may
  write the same folder.
* Shards recorded as published whose files are still in place are done;
  everything else is redone from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchspec.engine.errors import OutputError
from batchspec.engine.job import EngineJob
from batchspec.engine.jobdir import JobDir
from batchspec.engine.output import OutputStore
from batchspec.engine.plan import ShardPlan, check_unchanged, plan_shards
from batchspec.engine.shard import ShardResult
from batchspec.errors import BatchspecError
from batchspec.io import storage
from batchspec.model.enums import JobState


@dataclass(frozen=True)
class Planned:
    """The job's shard plan; whether an earlier start saved it; the input
    files it was made from (a new plan only)."""

    plan: ShardPlan
    saved: bool
    files: tuple[str, ...] = ()

    def describe(self, job: EngineJob) -> str:
        """`planned N shards over ...` for the event log."""
        plan = self.plan
        total = "unknown" if plan.total is None else f"{plan.total:,}"
        over = self.files[0] if job.reads_table else f"{len(self.files)} files"
        return f"planned {len(plan.shards)} shards over {over} ({total} instances)"


def load_or_plan(jd: JobDir, job: EngineJob) -> Planned:
    """The saved plan (refused when an input changed since), or a new one."""
    saved = jd.read_plan()
    if saved is not None:
        plan = ShardPlan.from_json(saved)
        check_unchanged(plan)
        return Planned(plan, saved=True)
    spec = job.effective
    files = list(job.inputs) if job.reads_table else storage.expand_all(list(job.inputs))
    plan = plan_shards(
        files,
        spec.input.format,
        max_workers=spec.resources.max_worker_count,
        batch_size=spec.resources.batch_size,
    )
    return Planned(plan, saved=False, files=tuple(files))


def claim_output(jd: JobDir, job: EngineJob, store: OutputStore) -> str | None:
    """Check the output location is this job's to write; with `overwrite`,
    remove earlier results. Returns what was done, for the event log."""
    _check_not_shared(jd, job)
    existing = store.existing()
    if existing and not job.effective.output.overwrite:
        shown = ", ".join(existing[:3]) + (", ..." if len(existing) > 3 else "")
        raise OutputError(
            f"the output location {job.output} already holds results ({shown})",
            hint="set `output.overwrite: true` to replace them, or choose another `output.path`",
        )
    if existing:
        store.remove(existing)
        return f"overwrite: removed {len(existing)} earlier result files"
    return None


def _check_not_shared(jd: JobDir, job: EngineJob) -> None:
    """Two live jobs writing one folder would interleave their shards."""
    for other in jd.path.parent.iterdir():
        if other == jd.path or not (other / "job.json").exists():
            continue
        od = JobDir(other)
        state = od.read_status().get("state")
        if state is None or JobState(state).terminal or not od.supervisor_alive():
            continue
        try:
            other_job = EngineJob.from_record(od.read_job())
        except BatchspecError:
            continue
        if other_job.output == job.output:
            raise OutputError(
                f"job {other_job.id} ({state}) is writing to the same output folder {job.output}",
                hint="wait for it to finish or cancel it, or choose another `output.path`",
            )


def published_shards(jd: JobDir, plan: ShardPlan, store: OutputStore) -> dict[int, ShardResult]:
    """Recorded shards whose files are still in place, as recorded."""
    done = {}
    for index, rec in jd.shard_records().items():
        if index >= len(plan.shards):
            continue
        result = ShardResult.from_json(rec)
        if (
            store.size(result.results.name) == result.results.bytes
            and store.size(result.errors.name) == result.errors.bytes
        ):
            done[index] = result
    return done
