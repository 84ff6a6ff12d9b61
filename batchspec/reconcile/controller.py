"""The controller loop: level-triggered, one pass at a time.

Each pass is the reconcile step (`batchspec.reconcile.step`: desired, the
spec files read again every pass; recorded, the state; observed, one paged
list per backend and location) and then acts on its plan: submit what is
missing, replace what changed, resubmit what failed once its backoff is over,
cancel what was removed or ran past its deadline, forget what is gone. It
never remembers "events" between passes: whatever happened while it was
down, the next pass sees the same world and does the same thing.

Between passes it sleeps: the base interval after a pass that changed
something, longer (x1.5 up to a cap) while nothing changes, and with
exponential backoff after a pass that failed, always with jitter, and never
past the time a retry backoff ends. A stop event (SIGTERM) ends the loop
between actions, never between recording an intent and the submit.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from batchspec.backends.registry import BackendProvider
from batchspec.errors import BackendError, LeaseHeldError
from batchspec.io.storage import StorageError, StorageInterruptedError
from batchspec.model.enums import JobState
from batchspec.model.spec import Policy
from batchspec.plan.actions import Action, ActionKind, Plan
from batchspec.plan.builder import PlanOptions
from batchspec.plan.desired import Desired
from batchspec.plan.observed import Observation
from batchspec.reconcile.clock import Clock, SystemClock
from batchspec.reconcile.executor import SUBMIT_RETRY, ApplyReport, Executor, Outcome
from batchspec.reconcile.observe import OBSERVE_RETRY
from batchspec.reconcile.outputs import ManifestError, read_manifest
from batchspec.reconcile.step import Step, reconcile_step
from batchspec.reconcile.sync import SyncResult
from batchspec.retry import RetryPolicy
from batchspec.state.records import JobRecord
from batchspec.state.store import StateStore


@dataclass(frozen=True)
class ControllerOptions:
    """Loop timing, capacity and retry schedules."""

    interval: float = 30.0
    max_interval: float = 300.0
    max_running: int = 0  # 0: no limit
    jitter: float = 0.1
    submit_retry: RetryPolicy = SUBMIT_RETRY
    observe_retry: RetryPolicy = OBSERVE_RETRY
    allow_retired: bool = False  # submit to retired services (ML Engine) anyway


@dataclass
class PassResult:
    """What one pass saw and did."""

    plan: Plan
    observation: Observation
    sync: SyncResult
    report: ApplyReport
    deferred: list[tuple[Action, str]] = field(default_factory=list)
    deadline_cancels: list[JobRecord] = field(default_factory=list)
    resumed: list[JobRecord] = field(default_factory=list)
    next_wake: datetime | None = None
    settled: bool = False
    blocked: dict[str, str] = field(default_factory=dict)
    followed: int = 0

    @property
    def changed(self) -> bool:
        """True when the pass recorded or did anything."""
        return bool(self.sync.changed or self.report.done or self.deadline_cancels or self.resumed)


class Controller:
    """Reconciles desired, recorded and observed state, pass after pass."""

    def __init__(
        self,
        store: StateStore,
        provider: BackendProvider,
        desired: Callable[[], Desired],
        *,
        actor: str,
        options: ControllerOptions | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        stop: threading.Event | None = None,
        guard: Callable[[], None] | None = None,
        report: Callable[[Outcome], None] | None = None,
        log: Callable[[str], None] | None = None,
        watch: Callable[[Desired], set[str]] | None = None,
        pass_lock: Callable[[], AbstractContextManager[Callable[[], None]]] | None = None,
    ) -> None:
        self.store = store
        self.provider = provider
        self.desired = desired
        self.actor = actor
        self.options = options or ControllerOptions()
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.stop = stop or threading.Event()
        self.guard = guard
        self.log = log or (lambda _message: None)
        self.watch = watch
        self.pass_lock = pass_lock
        self._pass_guard: Callable[[], None] | None = None
        self._backend_errors: dict[str, str] = {}
        self.executor = Executor(
            store,
            provider,
            actor=actor,
            clock=self.clock,
            rng=self.rng,
            retry=self.options.submit_retry,
            guard=self._check,
            stop=self.stop,
            report=report,
            log=self.log,
        )

    # --- one pass -------------------------------------------------------------------

    def run_pass(self) -> PassResult:
        """Observe, record, plan, act, enforce deadlines."""
        self._check()
        desired = self.desired()
        for problem in desired.problems:
            self.log(f"cannot plan {problem.name or problem.file}: {problem.message}")
        step = reconcile_step(
            self.store,
            self.provider,
            desired,
            Step(
                retry=self.options.observe_retry,
                plan=PlanOptions(allow_retired=self.options.allow_retired),
            ),
            actor=self.actor,
            clock=self.clock,
            rng=self.rng,
            now=self.clock.now,
        )
        observation, synced, plan = step.observation, step.synced, step.plan
        assert plan is not None
        self._log_backend_errors(observation)
        self._remember_manifests(synced)
        now = plan.created_at
        ready, deferred = self._gate(plan, observation, now)
        report = self.executor.execute(ready, observation)
        cancels = self._enforce_deadlines(desired, now)
        resumed = self._resume_paused(desired, observation)
        result = PassResult(
            plan=plan,
            observation=observation,
            sync=synced,
            report=report,
            deferred=deferred,
            deadline_cancels=cancels,
            resumed=resumed,
            next_wake=min((a.not_before for a, _ in deferred if a.not_before), default=None),
        )
        watched = self.watch(desired) if self.watch else set(desired.jobs)
        result.blocked = self._blocked(observation, watched, deferred)
        result.settled = self._settled(watched, result)
        result.followed = len(self.store.followed_jobs())
        return result

    def _blocked(
        self, observation: Observation, watched: set[str], deferred: list[tuple[Action, str]]
    ) -> dict[str, str]:
        """Backends that cannot work at all (not installed, access denied) and that
        watched jobs need: waiting for those jobs would never end."""
        needed = {_backend(a) for a, _ in deferred if a.name in watched}
        needed |= {r.backend for r in self.store.followed_jobs() if r.name in watched}
        return {b: observation.failed[b] for b in sorted(observation.permanent & needed)}

    def _log_backend_errors(self, observation: Observation) -> None:
        """Say when a backend starts failing, changes its error, or recovers; not every pass."""
        for name, message in sorted(observation.failed.items()):
            if self._backend_errors.get(name) != message:
                self.log(f"backend {name} could not be listed: {message}")
        for name in sorted(set(self._backend_errors) - set(observation.failed)):
            self.log(f"backend {name} answers again")
        self._backend_errors = dict(observation.failed)

    def _gate(
        self, plan: Plan, observation: Observation, now: datetime
    ) -> tuple[list[Action], list[tuple[Action, str]]]:
        """Split the plan's changes into what runs now and what waits (and why)."""
        ready: list[Action] = []
        deferred: list[tuple[Action, str]] = []
        running = len(self.store.followed_jobs())
        limit = self.options.max_running
        for action in plan.changes:
            backend = _backend(action)
            if _unlisted(action, observation):
                deferred.append((action, f"backend {backend} is unavailable"))
                continue
            if action.kind is ActionKind.RESUBMIT and action.not_before and action.not_before > now:
                deferred.append((action, f"retry backoff until {action.not_before:%H:%M:%S}Z"))
                continue
            resumes = action.previous is not None and action.previous.in_doubt
            if action.submits and limit and not resumes:
                if running >= limit:
                    deferred.append((action, f"at the concurrency limit ({limit} running)"))
                    continue
                running += 1
            ready.append(action)
        return ready, deferred

    def _enforce_deadlines(self, desired: Desired, now: datetime) -> list[JobRecord]:
        """Cancel current jobs that ran past their policy's deadline."""
        cancelled = []
        for record in self.store.current_jobs().values():
            if self.stop.is_set():
                break
            if record.terminal or record.remote_name is None or record.cancel_requested_at:
                continue
            job = desired.jobs.get(record.name)
            policy: Policy | None = job.effective.policy if job else None
            if policy is None or policy.deadline_seconds is None or record.submitted_at is None:
                continue
            if now - record.submitted_at < timedelta(seconds=policy.deadline_seconds):
                continue
            self._check()
            try:
                cancelled.append(
                    self.executor.cancel(
                        record, reason=f"deadline {policy.deadline} exceeded (policy.deadline)"
                    )
                )
                self.log(f"{record.name}: cancelled, deadline {policy.deadline} exceeded")
            except BackendError as exc:
                self.log(f"{record.name}: deadline passed but cancel failed: {exc.message}")
        return cancelled

    def _resume_paused(self, desired: Desired, observation: Observation) -> list[JobRecord]:
        """Submit PAUSED jobs again with the same submit key.

        Submission is idempotent by that key, so the backend adopts the job
        rather than creating one; the local engine reports a job whose
        supervisor died as PAUSED and resumes it on such a submit.
        """
        resumed = []
        for record in self.store.current_jobs().values():
            if self.stop.is_set():
                break
            job = desired.jobs.get(record.name)
            if (
                record.state is not JobState.PAUSED
                or record.remote_name is None
                or record.cancel_requested_at is not None
                or job is None
                or job.fingerprint != record.fingerprint
                or observation.unlisted(record.backend, record.remote_name)
            ):
                continue
            self._check()
            try:
                remote = self.executor.resubmit_same(record, job)
            except BackendError as exc:
                self.log(f"{record.name}: PAUSED, and resuming it failed: {exc.message}")
                continue
            self.store.record_event(
                record.id, "resume_requested", reason="PAUSED: submitted again", actor=self.actor
            )
            updated = self.store.record_observed(record.id, remote, actor=self.actor)
            resumed.append(updated or self.store.job(record.id))
            self.log(f"{record.name}: PAUSED; submitted again to resume ({remote.state.value})")
        return resumed

    def _remember_manifests(self, synced: SyncResult) -> None:
        """Keep the output manifest's digest of each job seen succeeding (outputs drift)."""
        for before, after in synced.changed:
            became = after.state is not None and after.state.successful
            if not became or before.state == after.state or not after.output_location:
                continue
            try:
                manifest = read_manifest(after.output_location)
            except StorageInterruptedError:
                return
            except StorageError as exc:  # one line naming the bucket, the pass goes on
                self.log(f"{after.name}: output manifest not recorded: {exc.message}")
                continue
            except (ManifestError, OSError):
                continue
            if manifest is not None:
                self.store.set_manifest_sha256(after.id, manifest.digest)

    def _settled(self, watched: set[str], result: PassResult) -> bool:
        """True when nothing more will happen to the watched jobs without a change
        (jobs on a blocked backend cannot move, so they do not hold it up)."""
        blocked = set(result.blocked)
        if any(a.name in watched and _backend(a) not in blocked for a, _ in result.deferred):
            return False
        if any(o.action.submits and o.action.name in watched for o in result.report.done):
            return False
        return not any(
            r.name in watched and r.backend not in blocked for r in self.store.followed_jobs()
        )

    # --- the loop -------------------------------------------------------------------

    def run(
        self,
        *,
        once: bool = False,
        until_settled: bool = False,
        on_pass: Callable[[PassResult], None] | None = None,
    ) -> PassResult | None:
        """Pass after pass until stopped (or once, or until the watched jobs settle)."""
        delay = self.options.interval
        failures = 0
        last: PassResult | None = None
        while not self.stop.is_set():
            try:
                last = self._locked_pass()
                failures = 0
            except LeaseHeldError as exc:
                if self.guard is not None:
                    self.guard()  # our own (controller) lease is gone: stop for good
                failures += 1
                delay = min(self.options.max_interval, self.options.interval * 2**failures)
                self.log(f"pass skipped: {exc.message}; next try in about {delay:.0f}s")
            except BackendError as exc:
                failures += 1
                delay = min(self.options.max_interval, self.options.interval * 2**failures)
                self.log(f"pass failed ({exc.message}); next try in about {delay:.0f}s")
            else:
                if on_pass is not None:
                    on_pass(last)
                if once or (until_settled and last.settled):
                    return last
                delay = self._next_delay(last, delay)
            self.clock.sleep(self._jittered(delay), self.stop)
        return last

    def _check(self) -> None:
        """Raise LeaseHeldError when either lease this controller relies on was lost."""
        if self.guard is not None:
            self.guard()
        if self._pass_guard is not None:
            self._pass_guard()

    def _locked_pass(self) -> PassResult:
        """One pass, under the per-pass (writer) lease when one is configured."""
        if self.pass_lock is None:
            return self.run_pass()
        with self.pass_lock() as guard:
            self._pass_guard = guard
            try:
                return self.run_pass()
            finally:
                self._pass_guard = None

    def _next_delay(self, result: PassResult, previous: float) -> float:
        base, cap = self.options.interval, self.options.max_interval
        delay = base if result.changed else min(cap, max(base, previous * 1.5))
        if result.next_wake is not None:
            until = (result.next_wake - self.clock.now()).total_seconds()
            delay = min(delay, max(0.0, until) + 0.05)
        return delay

    def _jittered(self, delay: float) -> float:
        spread = self.options.jitter
        return max(0.0, delay * self.rng.uniform(1 - spread, 1 + spread))


def _backend(action: Action) -> str | None:
    """The backend an action talks to."""
    return action.previous.backend if action.previous else action.target


def _unlisted(action: Action, observation: Observation) -> bool:
    """True when a location the action must look in could not be listed: where
    its recorded job lives, or where its new job goes."""
    previous, job = action.previous, action.job
    if previous is not None and observation.unlisted(previous.backend, previous.remote_name):
        return True
    return job is not None and observation.unlisted(job.target.value, job.parent) is not None
