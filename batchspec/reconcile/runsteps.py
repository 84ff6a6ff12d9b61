"""The executor's steps for recurring specs: record a schedule, record ticks
that do not run, and submit one run.

A run is submitted like any job (intent first, then a look-up by its key,
then the call), with two differences: the intent also decides the tick and
moves the schedule's cursor in the same transaction, and an interrupted
submit of the spec is resolved before the next run starts, so a tick never
runs twice. `Executor` provides the submitting and cancelling these use.
"""

from __future__ import annotations

from batchspec.backends.registry import BackendProvider
from batchspec.model.jobs import CompiledJob, RemoteJob
from batchspec.plan.actions import Action, ActionKind
from batchspec.plan.attempts import for_run_key, submit_key
from batchspec.plan.observed import Observation
from batchspec.reconcile.clock import Clock
from batchspec.reconcile.outcomes import Outcome, require_listed
from batchspec.state.records import Disposition, JobRecord, RunStamp
from batchspec.state.store import StateStore


class RunSteps:
    """Recurring specs' actions; the submitting parts come from `Executor`."""

    store: StateStore
    provider: BackendProvider
    actor: str
    clock: Clock

    def _find(
        self, record: JobRecord, observation: Observation, parent: str | None = None
    ) -> RemoteJob | None:
        raise NotImplementedError

    def _ensure_submitted(
        self, action: Action, record: JobRecord, job: CompiledJob, observation: Observation
    ) -> Outcome:
        raise NotImplementedError

    def _running(self, record: JobRecord, observation: Observation) -> bool:
        raise NotImplementedError

    def _cancel(self, record: JobRecord, *, reason: str) -> JobRecord:
        raise NotImplementedError

    def _decide(self, action: Action) -> Outcome:
        """Record a recurring spec's schedule, or ticks that do not run."""
        job = action.job
        assert job is not None
        if action.kind is ActionKind.SCHEDULE:
            self.store.register_schedule(job, action.cursor or self.clock.now(), actor=self.actor)
            return Outcome(action, True, "schedule recorded", action.previous)
        cursor = max((d.at for d in action.decided), default=None)
        self.store.record_ticks(
            job.name, action.decided, cursor=cursor, fingerprint=job.fingerprint
        )
        return Outcome(action, True, f"{len(action.decided)} tick(s) recorded", action.previous)

    def _run(self, action: Action, observation: Observation) -> Outcome:
        """Submit one run of a recurring spec: resolve an interrupted submit
        first, cancel the unfinished run when it is replaced, then record the
        intent (tick decided, cursor moved, one transaction) and submit."""
        job, run = action.job, action.run
        assert job is not None and run is not None
        self.provider(job.target.value)
        require_listed(job.target.value, job.name, observation, job.parent)
        self.store.register_schedule(job, action.cursor or run.at, actor=self.actor)
        previous = self.store.current_job(job.name)
        if previous is not None and previous.in_doubt:
            found = self._find(previous, observation, job.parent)
            if found is not None:
                previous = self.store.record_submitted(
                    previous.id, found, actor=self.actor, adopted=True
                )
                if previous.run_key == run.key:
                    return Outcome(
                        action, True, f"adopted existing job {found.remote_name}", previous
                    )
            elif previous.run_key == run.key and previous.fingerprint == job.fingerprint:
                return self._ensure_submitted(action, previous, job, observation)
            else:
                previous = self.store.set_disposition(
                    previous.id,
                    Disposition.SUPERSEDED,
                    actor=self.actor,
                    reason="the interrupted submit never created a job",
                )
        if run.replaces and previous is not None and self._running(previous, observation):
            self._cancel(previous, reason=f"replaced by run {run.key} (concurrency: Replace)")
        attempt = self.store.next_run_attempt(job.fingerprint, run.key)
        again = action.kind is ActionKind.RESUBMIT and previous is not None
        retry = previous.retry + 1 if again and previous is not None else 0
        stamp = RunStamp(run.key, run.at, run.inputs_digest)
        record = self.store.record_run_intent(
            job,
            stamp,
            submit_key=submit_key(for_run_key(job, run), attempt),
            attempt=attempt,
            retry=retry,
            supersede=previous.id
            if previous is not None and previous.disposition is Disposition.CURRENT
            else None,
            decisions=action.decided,
            tick=run.tick,
            actor=self.actor,
            reason=f"{action.kind.value} {run.key}: {action.reason}",
        )
        return self._ensure_submitted(action, record, job, observation)
