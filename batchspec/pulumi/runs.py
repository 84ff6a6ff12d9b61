"""A job run owned by a Pulumi resource, through the controller's own path.

`pulumi up` and `batchspec apply` must never both submit one revision. The
guarantee comes from sharing, not from copying: the provider opens the same
batchspec state file and, holding the same *writer lease* that `apply` and
each controller pass hold, runs the same steps for its one job:

1. the reconcile step of `apply` and every controller pass, for this one
   spec (`batchspec.reconcile.step`): list the job's backend where the spec
   and its recorded job live, record what it reports for that spec's jobs,
   and plan that one spec against recorded state;
2. carry the action out with the controller's `Executor`: record the
   intent, adopt a job carrying the submit key, else create it, record the
   job.

Because the lease serialises the whole observe-plan-submit sequence, whoever
comes second sees the first one's intent or job and adopts it: same revision,
one job, whichever tool ran first, and whichever of them crashed half-way.
Without the lease two list-then-create sequences could interleave on a
service with no request ids (Vertex), so it is taken even for a single job.

Nothing here imports Pulumi; the dynamic provider is a thin shell around
`ensure_run`, `observe_run`, `stop_run` and `move_run`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from batchspec.backends.base import Backend
from batchspec.backends.registry import (
    DEFAULT_BACKENDS,
    BackendProvider,
    BackendRegistry,
    load_factory,
)
from batchspec.errors import BatchspecError, JobNotFoundError, TemporaryBackendError
from batchspec.model.enums import CLOUD_TARGETS
from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.plan.actions import Action, ActionKind
from batchspec.plan.desired import desired_from
from batchspec.plan.observed import Observation
from batchspec.reconcile.executor import Executor, require_listed
from batchspec.reconcile.observe import observe
from batchspec.reconcile.step import Step, reconcile_step
from batchspec.state.lease import holding, this_process
from batchspec.state.records import Disposition, JobRecord, utc_now
from batchspec.state.store import StateStore

ACTOR = "pulumi"
LEASE_COMMAND = "pulumi (batchspec provider)"


class RunError(BatchspecError):
    """The job run could not be created, read or stopped."""


@dataclass(frozen=True)
class Where:
    """Where a run is recorded and executed: the state file, the local
    backend's home, and the project and region cloud backends list in."""

    state_path: Path
    home: Path | None = None
    project: str | None = None
    region: str | None = None
    lock_timeout: float = 300.0
    lease_ttl: float = 60.0


@dataclass(frozen=True)
class RunView:
    """A run as Pulumi shows it: the state record and what the backend says."""

    backend: str
    remote_name: str
    state: str | None
    output_location: str | None
    record: JobRecord | None = None
    remote: RemoteJob | None = None
    action: str = "read"
    missing: bool = False


def backends_for(where: Where) -> BackendRegistry:
    """The backend registry, set up for `where`.

    The local backend uses the stack's home (the provider process runs in
    the Pulumi project folder, not where `batchspec apply` runs); cloud
    backends list in the job's project and region. `BATCHSPEC_BACKEND_<T>`
    still replaces any of them, as for the CLI.
    """
    registry = BackendRegistry()
    home = where.home
    if home is not None:

        def local() -> Backend:
            factory = load_factory("local", DEFAULT_BACKENDS["local"])
            return factory(home)  # type: ignore[call-arg]

        registry.register("local", local)
    for target in CLOUD_TARGETS:
        registry.register(target.value, _cloud_factory(target.value, where))
    return registry


def _cloud_factory(target: str, where: Where) -> Callable[[], Backend]:
    def make() -> Backend:
        factory = load_factory(target, DEFAULT_BACKENDS[target])
        return factory(project=where.project, region=where.region)  # type: ignore[call-arg]

    return make


@contextlib.contextmanager
def _writer(where: Where) -> Iterator[tuple[StateStore, Callable[[], None]]]:
    """The state store with the writer lease held (and heartbeating) for the block."""
    store = StateStore.open(where.state_path, create=True)
    try:
        with holding(
            store, this_process(LEASE_COMMAND), ttl=where.lease_ttl, wait=where.lock_timeout
        ) as guard:
            yield store, guard
    finally:
        store.close()


def _require_listed(observation: Observation, backend: str, place: str | None) -> None:
    try:
        require_listed(backend, "the job", observation, place)
    except TemporaryBackendError as exc:
        hint = "nothing was submitted; run `pulumi up` again when the backend answers"
        raise RunError(exc.message, hint=hint) from exc


def ensure_run(
    job: CompiledJob,
    where: Where,
    *,
    provider: BackendProvider | None = None,
) -> RunView:
    """The run of `job`'s revision: adopted if state or the backend has it, else submitted.

    The action is the one `batchspec apply` would take for this spec alone:
    a revision already running or finished is adopted as it is (one job per
    revision); an interrupted submit is resolved by its key; a changed spec
    replaces the job recorded for the name (cancelling it if it still runs);
    a failed attempt the spec's policy may retry is resubmitted once its
    backoff has passed. Removals are never planned here: the desired set is
    just this spec.
    """
    provider = provider or backends_for(where)
    with _writer(where) as (store, guard):
        step = reconcile_step(
            store,
            provider,
            desired_from([job]),
            Step(names={job.name}, record_drift=False),
            actor=ACTOR,
        )
        observation, plan = step.observation, step.plan
        assert plan is not None
        _require_listed(observation, job.target.value, job.parent)
        action = next(a for a in plan.actions if a.name == job.name)
        if _adopts(action):
            assert action.previous is not None
            return _view(store.job(action.previous.id), observation, action="adopted")
        executor = Executor(store, provider, actor=ACTOR, guard=guard)
        outcome = executor.execute([action], observation).outcomes[0]
        if not outcome.ok or outcome.record is None:
            raise RunError(
                f"{job.name}: {outcome.message}",
                hint="nothing is recorded as running; run `pulumi up` again once the cause"
                " is fixed (an interrupted submit is adopted, never duplicated)",
            )
        events = {t.event for t in store.transitions(job_id=outcome.record.id)}
        verb = "adopted" if "adopted" in events else "submitted"
        return _view(outcome.record, observation, action=verb)


def _adopts(action: Action) -> bool:
    """NOOP, or a retry whose backoff has not passed: the recorded job stands."""
    if action.kind is ActionKind.NOOP:
        return True
    if action.kind is ActionKind.RESUBMIT and action.not_before is not None:
        return action.not_before > utc_now()
    return False


def _view(record: JobRecord, observation: Observation | None, *, action: str) -> RunView:
    if record.remote_name is None:
        raise RunError(
            f"{record.name}: the backend refused the job ({record.error or 'no reason given'})",
            hint="fix the spec and run `pulumi up` again",
        )
    seen = observation.find(record.backend, record.remote_name) if observation else None
    return RunView(
        backend=record.backend,
        remote_name=record.remote_name,
        state=record.state.value if record.state else None,
        output_location=record.output_location,
        record=record,
        remote=seen,
        action=action,
    )


def _record_for(store: StateStore, backend: str, remote_name: str) -> JobRecord | None:
    return store.job_by_remote(backend, remote_name)


def observe_run(
    backend_name: str,
    remote_name: str,
    where: Where,
    *,
    provider: BackendProvider | None = None,
) -> RunView:
    """What the backend reports about the run now (`pulumi refresh`), recorded in state.

    A job the backend no longer has comes back with `missing=True`; the state
    record keeps what was last known. Backend errors other than "not found"
    raise: a refresh must not mistake an outage for a deleted job.
    """
    provider = provider or backends_for(where)
    store = StateStore.open(where.state_path, create=False)
    try:
        record = _record_for(store, backend_name, remote_name)
        backend = provider(backend_name)
        try:
            remote = backend.get(remote_name)
        except JobNotFoundError:
            if record is not None and store.path is not None:
                record = store.record_missing(
                    record.id, actor=ACTOR, reason="pulumi refresh: the backend has no such job"
                )
            return RunView(
                backend=backend_name,
                remote_name=remote_name,
                state=record.state.value if record and record.state else None,
                output_location=record.output_location if record else None,
                record=record,
                missing=True,
            )
        if record is not None and store.path is not None:
            record = store.record_observed(record.id, remote, actor=ACTOR) or store.job(record.id)
        return RunView(
            backend=backend_name,
            remote_name=remote_name,
            state=remote.state.value,
            output_location=remote.output_location or (record.output_location if record else None),
            record=record,
            remote=remote,
        )
    finally:
        store.close()


def stop_run(
    backend_name: str,
    remote_name: str,
    where: Where,
    *,
    reason: str = "deleted from the Pulumi stack",
    provider: BackendProvider | None = None,
) -> RunView:
    """The resource is deleted: cancel the job if it still runs, leave it if it ended.

    The job standing for its spec name is retired the way `batchspec apply`
    retires a removed spec: a running one is cancelled and marked removed
    (followed until it ends), a finished one is forgotten (its results and
    its name stay; `pulumi up` would run the revision again as a new
    attempt). A job already superseded is only cancelled if it still runs.
    """
    provider = provider or backends_for(where)
    with _writer(where) as (store, guard):
        record = _record_for(store, backend_name, remote_name)
        if record is None:
            return _stop_unrecorded(backend_name, remote_name, provider)
        observation = observe({backend_name: {remote_name}}, provider)
        _require_listed(observation, backend_name, remote_name)
        executor = Executor(store, provider, actor=ACTOR, guard=guard)
        running = _running(record, observation)
        if running:
            executor.cancel(record, reason=reason)
        if record.disposition is Disposition.CURRENT:
            retired = Disposition.REMOVED if running else Disposition.FORGOTTEN
            store.set_disposition(record.id, retired, actor=ACTOR, reason=reason)
        return _view(store.job(record.id), observation, action="deleted")


def _running(record: JobRecord, observation: Observation) -> bool:
    seen = observation.find(record.backend, record.remote_name)
    state = seen.state if seen is not None else record.state
    return (
        record.remote_name is not None
        and record.cancel_requested_at is None
        and (state is None or not state.terminal)
        and (seen is not None or record.missing_since is None)
    )


def _stop_unrecorded(backend_name: str, remote_name: str, provider: BackendProvider) -> RunView:
    """No state record (another state file, or it was lost): ask the backend directly."""
    backend = provider(backend_name)
    try:
        remote = backend.get(remote_name)
        if not remote.terminal:
            remote = backend.cancel(remote_name)
    except JobNotFoundError:
        return RunView(backend_name, remote_name, None, None, missing=True, action="deleted")
    return RunView(
        backend_name,
        remote_name,
        remote.state.value,
        remote.output_location,
        remote=remote,
        action="deleted",
    )


def move_run(
    backend_name: str, remote_name: str, where: Where, *, provider: BackendProvider | None = None
) -> RunView:
    """Operational settings changed (state file, home, lock timeout): the job must
    still be found where the new settings point, or the update is refused."""
    view = observe_run(backend_name, remote_name, where, provider=provider)
    if view.missing:
        raise RunError(
            f"job {remote_name} is not on backend {backend_name} as now configured",
            hint="the stack's `home`, `project` or `region` moved away from where the job"
            " runs: set them back, or `pulumi up --replace` to run it again there",
        )
    return view


def describe_error(exc: BaseException) -> str:
    """One line for a user: the message and, when there is one, the hint."""
    if isinstance(exc, BatchspecError):
        return exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
    return f"{type(exc).__name__}: {exc}"


__all__ = [
    "RunError",
    "RunView",
    "Where",
    "backends_for",
    "describe_error",
    "ensure_run",
    "move_run",
    "observe_run",
    "stop_run",
]
