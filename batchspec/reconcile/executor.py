"""Carry out plan actions against backends, exactly once.

The submission protocol, in order, each step its own transaction:

1. record the intent (job row in phase INTENT with its submit key);
2. look the key up in the observation made at the start of the run (one
   paged list per backend and location) and adopt a job that already
   carries it;
3. otherwise create it: `backend.create` when the job's location was listed
   in this run (a listing older than `listing_max_age` is made again first,
   one paged list for every job of that location), so a run of 1,000 new
   jobs costs O(pages) lists, not one per job; else `backend.submit`, which
   looks for the key itself. 429/503 are retried with backoff; after an
   ambiguous failure the key is listed again before any retry, so a job
   that appeared between the list and the create is adopted;
4. record the remote name and first state.

Retries are `batchspec.retry.call_with_retry` on the executor's clock and
random source. This loop is the outermost one, so it owns them: a backend
that retries its own calls makes one attempt per retry of this loop, and
`SUBMIT_RETRY`'s deadline bounds a whole submit.

A process killed anywhere in there leaves either no intent (nothing was
sent) or an intent, which the next run resolves with step 2; the unique
index on (backend, submit key) makes a second job for one attempt
impossible to record.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from batchspec.backends.base import Backend, Creates
from batchspec.backends.registry import BackendProvider
from batchspec.errors import (
    BackendError,
    JobNotFoundError,
    PermanentBackendError,
    TemporaryBackendError,
)
from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.plan.actions import Action, ActionKind
from batchspec.plan.attempts import for_attempt, key_label, submit_key
from batchspec.plan.observed import Observation
from batchspec.reconcile.clock import Clock, SystemClock
from batchspec.reconcile.observe import lookup_key, refresh
from batchspec.retry import RetryPolicy, call_with_retry
from batchspec.state.records import Disposition, JobRecord
from batchspec.state.store import StateStore

T = TypeVar("T")

SUBMIT_RETRY = RetryPolicy(initial=1.0, maximum=30.0, deadline=300.0)
"""Submits, cancels and look-ups: patient, since a pass can wait for a throttled service."""

LISTING_MAX_AGE = 60.0
"""Seconds a location's listing is trusted to show every job before creating
without a look-up; an older one is listed again (one paged list)."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one action."""

    action: Action
    ok: bool
    message: str
    record: JobRecord | None = None
    skipped: bool = False


@dataclass
class ApplyReport:
    """Outcomes of one apply (or one controller pass)."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        """Actions that did not succeed."""
        return [o for o in self.outcomes if not o.ok and not o.skipped]

    @property
    def done(self) -> list[Outcome]:
        """Actions carried out."""
        return [o for o in self.outcomes if o.ok and not o.skipped]


class Executor:
    """Executes actions; one instance per run."""

    def __init__(
        self,
        store: StateStore,
        provider: BackendProvider,
        *,
        actor: str,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        retry: RetryPolicy = SUBMIT_RETRY,
        guard: Callable[[], None] | None = None,
        stop: threading.Event | None = None,
        report: Callable[[Outcome], None] | None = None,
        log: Callable[[str], None] | None = None,
        listing_max_age: float = LISTING_MAX_AGE,
    ) -> None:
        self.store = store
        self.provider = provider
        self.actor = actor
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.retry = retry
        self.guard = guard
        self.stop = stop
        self.report = report
        self.log = log or (lambda _message: None)
        self.listing_max_age = listing_max_age

    def _retrying(
        self,
        call: Callable[[], T],
        what: str,
        name: str,
        *,
        recover: Callable[[], T | None] | None = None,
    ) -> T:
        """`call` under the executor's retry policy, clock and random source; each
        retry is logged under the job's name, and a stop request (SIGTERM) ends
        the wait between retries at once."""
        return call_with_retry(
            call,
            what=what,
            policy=self.retry,
            clock=_Stoppable(self.clock, self.stop),
            rng=self.rng,
            recover=recover,
            on_retry=lambda exc, delay, n: self.log(
                f"{name}: {exc.message}; retrying in {delay:.1f}s (attempt {n + 1})"
            ),
        )

    # --- running actions ------------------------------------------------------------

    def execute(self, actions: Sequence[Action], observation: Observation) -> ApplyReport:
        """Run every action in order; a backend error fails that action only."""
        result = ApplyReport()
        for action in actions:
            if self.stop is not None and self.stop.is_set():
                outcome = Outcome(action, False, "not started: stopping", skipped=True)
            else:
                if self.guard is not None:
                    self.guard()
                outcome = self._guarded(action, observation)
            result.outcomes.append(outcome)
            if self.report is not None:
                self.report(outcome)
        return result

    def _guarded(self, action: Action, observation: Observation) -> Outcome:
        try:
            return self._one(action, observation)
        except BackendError as exc:
            message = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
            return Outcome(action, False, message)

    def _one(self, action: Action, observation: Observation) -> Outcome:
        if action.kind is ActionKind.NOOP:
            return Outcome(action, True, "unchanged", action.previous, skipped=True)
        if action.submits:
            return self._submit(action, observation)
        if action.kind is ActionKind.CANCEL:
            return self._remove(action, observation)
        assert action.kind is ActionKind.FORGET and action.previous is not None
        record = self.store.set_disposition(
            action.previous.id, Disposition.FORGOTTEN, actor=self.actor, reason=action.reason
        )
        return Outcome(action, True, "forgotten", record)

    # --- submitting -----------------------------------------------------------------

    def _submit(self, action: Action, observation: Observation) -> Outcome:
        job = action.job
        assert job is not None
        # No backend, or one that cannot be listed: fail before recording any intent.
        self.provider(job.target.value)
        require_listed(job.target.value, job.name, observation, job.parent)
        previous = self._fresh(action.previous)
        if (
            previous is not None
            and previous.disposition is Disposition.CURRENT
            and previous.in_doubt
            and previous.fingerprint == job.fingerprint
            and action.kind is ActionKind.CREATE
        ):
            return self._ensure_submitted(action, previous, job, observation)
        supersede: int | None = None
        if previous is not None and previous.disposition is Disposition.CURRENT:
            previous = self._retire(action, previous, job, observation)
            supersede = previous.id if previous.disposition is Disposition.CURRENT else None
        attempt = self.store.next_attempt(job.fingerprint)
        retry = previous.retry + 1 if action.kind is ActionKind.RESUBMIT and previous else 0
        record = self.store.record_intent(
            job,
            submit_key=submit_key(job.fingerprint, attempt),
            attempt=attempt,
            retry=retry,
            supersede=supersede,
            actor=self.actor,
            reason=f"{action.kind.value}: {action.reason}",
        )
        return self._ensure_submitted(action, record, job, observation)

    def _fresh(self, record: JobRecord | None) -> JobRecord | None:
        return self.store.job(record.id) if record is not None else None

    def _retire(
        self, action: Action, previous: JobRecord, job: CompiledJob, observation: Observation
    ) -> JobRecord:
        """Make way for a new job of the same name: stop a replaced job that still runs;
        forget an interrupted submit that never reached the service."""
        if previous.in_doubt:
            found = self._find(previous, observation)
            if found is None:
                return self.store.set_disposition(
                    previous.id,
                    Disposition.FORGOTTEN,
                    actor=self.actor,
                    reason="the interrupted submit never created a job",
                )
            previous = self.store.record_submitted(
                previous.id, found, actor=self.actor, adopted=True
            )
        if action.kind is ActionKind.REPLACE and self._running(previous, observation):
            self._cancel(previous, reason=f"replaced by revision {job.short_fingerprint}")
        return self.store.job(previous.id)

    def _running(self, record: JobRecord, observation: Observation) -> bool:
        seen = observation.find(record.backend, record.remote_name)
        state = seen.state if seen is not None else record.state
        return (
            record.remote_name is not None
            and record.cancel_requested_at is None
            and record.missing_since is None
            and (state is None or not state.terminal)
        )

    def _find(
        self, record: JobRecord, observation: Observation, parent: str | None = None
    ) -> RemoteJob | None:
        """The job carrying `record`'s submit key: from the observation when the
        location it lives in (its remote name, else `parent`) was listed, else
        with one list call by the key's label."""
        where = record.remote_name or parent
        require_listed(record.backend, record.name, observation, where)
        self._refresh_if_stale(record, where, observation)
        if observation.covers(record.backend, where):
            found = observation.with_key(record.backend, key_label(record.submit_key))
            for job in found:
                owner = self.store.job_by_remote(record.backend, job.remote_name)
                if owner is None or owner.id == record.id:
                    return job
            return None
        backend = self.provider(record.backend)
        return self._retrying(
            lambda: lookup_key(backend, record.submit_key, where),
            f"looking up {record.name}",
            record.name,
        )

    def _refresh_if_stale(
        self, record: JobRecord, where: str | None, observation: Observation
    ) -> None:
        """List the location of `where` again when its listing is older than
        `listing_max_age`: it is about to stand in for a look-up before a create."""
        name = record.backend
        location = observation.location_of(name, where)
        listed_at = observation.listed[name][location] if location is not None else None
        if listed_at is None or self.clock.monotonic() - listed_at <= self.listing_max_age:
            return
        assert location is not None
        backend = self.provider(name)
        if not refresh(
            observation, name, backend, location, policy=self.retry, clock=self.clock, rng=self.rng
        ):
            require_listed(name, record.name, observation, where)

    def _ensure_submitted(
        self, action: Action, record: JobRecord, job: CompiledJob, observation: Observation
    ) -> Outcome:
        found = self._find(record, observation, job.parent)
        if found is not None:
            record = self.store.record_submitted(record.id, found, actor=self.actor, adopted=True)
            return Outcome(action, True, f"adopted existing job {found.remote_name}", record)
        backend = self.provider(record.backend)
        submitted = for_attempt(job, record.attempt)
        send = self._sender(backend, record, job, observation)
        try:
            remote = self._retrying(
                lambda: send(submitted),
                f"submitting {job.name}",
                job.name,
                recover=lambda: lookup_key(backend, record.submit_key, job.parent),
            )
        except PermanentBackendError as exc:
            self.store.record_rejected(record.id, error=exc.message, actor=self.actor)
            raise
        record = self.store.record_submitted(record.id, remote, actor=self.actor)
        return Outcome(
            action, True, f"submitted {remote.remote_name} ({remote.state.value})", record
        )

    @staticmethod
    def _sender(
        backend: Backend, record: JobRecord, job: CompiledJob, observation: Observation
    ) -> Callable[[CompiledJob], RemoteJob]:
        """`create` when this run's listing of the job's location showed no job
        with its key (the look-up `submit` would make is done), else `submit`."""
        listed = observation.covers(record.backend, job.parent)
        unseen = not observation.with_key(record.backend, key_label(record.submit_key))
        if isinstance(backend, Creates) and listed and unseen:
            return backend.create
        return backend.submit

    def resubmit_same(self, record: JobRecord, job: CompiledJob) -> RemoteJob:
        """Submit `record`'s attempt again, same key: the backend adopts the existing job
        (and a paused one resumes). Refuses a reply naming another job."""
        backend = self.provider(record.backend)
        submitted = for_attempt(job, record.attempt)
        remote = self._retrying(
            lambda: backend.submit(submitted),
            f"resuming {record.name}",
            record.name,
            recover=lambda: lookup_key(backend, record.submit_key, record.remote_name),
        )
        if remote.remote_name != record.remote_name:
            raise PermanentBackendError(
                f"resubmitting {record.name} returned job {remote.remote_name}, not"
                f" {record.remote_name}: the backend did not adopt by fingerprint",
                hint="this backend breaks the exactly-once contract of Backend.submit",
            )
        return remote

    # --- cancelling -----------------------------------------------------------------

    def _remove(self, action: Action, observation: Observation) -> Outcome:
        previous = self._fresh(action.previous)
        assert previous is not None
        if previous.in_doubt:
            found = self._find(previous, observation)
            if found is None:
                record = self.store.set_disposition(
                    previous.id,
                    Disposition.FORGOTTEN,
                    actor=self.actor,
                    reason="spec removed; the interrupted submit never created a job",
                )
                return Outcome(action, True, "forgotten (it was never submitted)", record)
            previous = self.store.record_submitted(
                previous.id, found, actor=self.actor, adopted=True
            )
        if self._running(previous, observation):
            self._cancel(previous, reason="spec removed (policy.onRemoval: cancel)")
        record = self.store.set_disposition(
            previous.id, Disposition.REMOVED, actor=self.actor, reason=action.reason
        )
        return Outcome(action, True, f"cancel requested for {record.remote_name}", record)

    def cancel(self, record: JobRecord, *, reason: str) -> JobRecord:
        """Cancel one job now (deadlines, `batchspec cancel`)."""
        return self._cancel(record, reason=reason)

    def _cancel(self, record: JobRecord, *, reason: str) -> JobRecord:
        assert record.remote_name is not None
        backend: Backend = self.provider(record.backend)
        remote_name = record.remote_name
        try:
            remote = self._retrying(
                lambda: backend.cancel(remote_name), f"cancelling {record.name}", record.name
            )
        except JobNotFoundError:
            return self.store.record_missing(
                record.id, actor=self.actor, reason="cancel found no such job"
            )
        return self.store.record_cancel_requested(
            record.id, reason=reason, actor=self.actor, remote=remote
        )


def require_listed(
    backend: str, name: str, observation: Observation, where: str | None = None
) -> None:
    """TemporaryBackendError when the location of `where` (a remote name or a
    parent) could not be listed: nothing may be submitted without a look-up."""
    failure = observation.unlisted(backend, where)
    if failure is not None:
        raise TemporaryBackendError(
            f"backend {backend} could not be listed, so {name} cannot be looked up"
            f" before submitting: {failure}",
            hint="nothing was submitted; run again when the backend answers",
        )


@dataclass(frozen=True)
class _Stoppable:
    """The executor's clock as a retry clock whose sleeps wake on `stop`."""

    clock: Clock
    stop: threading.Event | None

    def monotonic(self) -> float:
        return self.clock.monotonic()

    def sleep(self, seconds: float) -> bool:
        return self.clock.sleep(seconds, self.stop)
