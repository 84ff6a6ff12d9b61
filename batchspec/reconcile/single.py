"""One job, submitted and recorded the way `apply` does it: `batchspec run`.

`run` starts a spec on the local engine (or a Ray cluster) by hand. Its job
must be the same record `apply` would have made, or `status`, `get`,
`results`, `logs` and `drift` cannot see it (drift then calls it an unknown
job) and the next `apply` would start it a second time. So `run` goes
through the same steps as an apply of that one spec: observe its backend,
record what it says, plan (create, resubmit, replace, or nothing), and let
the executor carry the action out with its intent-before-submit protocol.
What `run` adds is its own manners: a job that is already running is
attached to (and resumed when its supervisor died), and `--rerun` starts a
finished one again as a new attempt, like `apply --replace`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from batchspec.backends.base import Backend
from batchspec.errors import BackendError
from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.plan.actions import Action, ActionKind
from batchspec.plan.builder import PlanOptions, plan_against
from batchspec.plan.desired import desired_from
from batchspec.reconcile.executor import Executor
from batchspec.reconcile.step import Step, reconcile_step
from batchspec.state.records import JobRecord
from batchspec.state.store import StateStore


@dataclass(frozen=True)
class Started:
    """The job `run` follows: its record, what the backend said, what was done."""

    record: JobRecord
    remote: RemoteJob
    action: Action


def start_recorded(
    store: StateStore,
    backend: Backend,
    job: CompiledJob,
    *,
    actor: str,
    rerun: bool = False,
    log: Callable[[str], None] | None = None,
) -> Started:
    """Plan `job` alone against state and its backend, carry it out, and return
    the job to follow (recorded in `store` exactly as `apply` records it)."""

    def provider(name: str) -> Backend:
        if name != backend.name:
            raise BackendError(f"batchspec run talks to the {backend.name} backend only")
        return backend

    desired = desired_from([job])
    seen = reconcile_step(
        store,
        provider,
        desired,
        Step(names={job.name}, record_drift=False, plan=None, backends={backend.name}),
        actor=actor,
    )
    observation = seen.observation
    if backend.name in observation.failed:
        raise BackendError(f"cannot list {backend.name} jobs: {observation.failed[backend.name]}")
    current = store.current_jobs().get(job.name)
    again = (
        rerun
        and current is not None
        and current.fingerprint == job.fingerprint
        and current.state is not None
        and current.state.terminal
    )
    replace = frozenset({job.name}) if again else frozenset()
    plan = plan_against(desired, store, observation, PlanOptions(replace=replace))
    [action] = plan.actions
    executor = Executor(store, provider, actor=actor, log=log)
    report = executor.execute(plan.changes, observation)
    if report.failed:
        failed = report.failed[0]
        raise BackendError(f"{job.name}: {failed.message}")
    record = store.current_jobs()[job.name]
    remote_name = record.remote_name
    assert remote_name is not None
    if action.kind is ActionKind.NOOP and (record.state is None or not record.state.terminal):
        # Attach, resuming the job if its supervisor died (the backend adopts by key).
        remote = executor.resubmit_same(record, job)
        record = store.record_observed(record.id, remote, actor=actor) or record
        return Started(record, remote, action)
    return Started(record, backend.get(remote_name), action)


def record_outcome(store: StateStore, record: JobRecord, remote: RemoteJob, *, actor: str) -> None:
    """Record what following the job saw last (its end, usually)."""
    current = store.job(record.id)
    if current.remote_name == remote.remote_name:
        store.record_observed(current.id, remote, actor=actor)


def record_cancel(
    store: StateStore, backend: str, remote: RemoteJob, *, actor: str, reason: str
) -> JobRecord | None:
    """Record a cancel `run --cancel` asked for (so CANCELLED is not drift)."""
    record = store.job_by_remote(backend, remote.remote_name)
    if record is None:
        return None
    return store.record_cancel_requested(record.id, reason=reason, actor=actor, remote=remote)
