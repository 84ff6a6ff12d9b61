"""Observation: what the backends report, at the cost of one list per page.

Every job batchspec submits carries the managed-by label, so one paged
`list(selector={managed-by: batchspec})` per backend shows all of them: a
pass over 1,000 jobs costs ten list pages, not a thousand gets.

A backend whose jobs live in locations (`Located`: a project and region on
Vertex AI and google-genai, a project on ML Engine) is listed in every
location that matters: each one a declared spec compiles to, each one a
recorded job lives in, and the backend's configured default. Specs spread
over three regions cost three paged lists, and a job in any of them is seen
by its listing, not by a `get` of its own.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping

from batchspec.backends.base import Backend, Located
from batchspec.backends.registry import BackendProvider
from batchspec.errors import BackendError, PermanentBackendError
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_MANAGED_BY, MANAGED_BY_VALUE, RemoteJob
from batchspec.plan.actions import Action
from batchspec.plan.attempts import key_label
from batchspec.plan.desired import Desired
from batchspec.plan.observed import WHOLE, Observation
from batchspec.reconcile.clock import Clock, SystemClock
from batchspec.retry import RetryPolicy, call_with_retry
from batchspec.state.store import StateStore

MANAGED_SELECTOR = {LABEL_MANAGED_BY: MANAGED_BY_VALUE}
OBSERVE_RETRY = RetryPolicy(initial=0.5, maximum=10.0, deadline=60.0)
"""One backend's listing: a backend that stays down is noted and the pass goes on."""

Scope = Mapping[str, Iterable[str]]
"""Backend name -> where its jobs that matter are: remote names and compiled
parents (an empty string: a job whose place is not known yet)."""


def scope_of(
    store: StateStore | None,
    desired: Desired | None = None,
    *,
    names: Collection[str] | None = None,
) -> dict[str, set[str]]:
    """What to observe: every backend and place that a declared spec or a
    recorded (not forgotten) job names; only those of `names` when given."""
    wanted: dict[str, set[str]] = {}
    for job in desired.jobs.values() if desired is not None else ():
        if names is None or job.name in names:
            wanted.setdefault(job.target.value, set()).add(job.parent or "")
    for record in store.tracked_jobs() if store is not None else ():
        if names is None or record.name in names:
            wanted.setdefault(record.backend, set()).add(record.remote_name or "")
    return wanted


def scope_of_actions(actions: Iterable[Action]) -> dict[str, set[str]]:
    """What to observe for a saved plan: where its actions' jobs are and go."""
    wanted: dict[str, set[str]] = {}
    for action in actions:
        if action.previous is not None:
            wanted.setdefault(action.previous.backend, set()).add(action.previous.remote_name or "")
        if action.job is not None:
            wanted.setdefault(action.job.target.value, set()).add(action.job.parent or "")
    return wanted


def locations(backend: Backend, names: Iterable[str]) -> list[str]:
    """The locations to list for jobs at `names`: each one a name lies in and
    the configured default; `[WHOLE]` for a backend listed as a whole (or a
    located one that knows no location, whose `list()` then says why)."""
    if not isinstance(backend, Located):
        return [WHOLE]
    found = {backend.location_of(name) for name in names if name}
    found.add(backend.default_location())
    known = sorted(loc for loc in found if loc)
    return known or [WHOLE]


def observe(
    wanted: Scope | Iterable[str],
    provider: BackendProvider,
    *,
    policy: RetryPolicy = OBSERVE_RETRY,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> Observation:
    """List every managed job of each backend, in each location that matters
    (a bare iterable of backend names: their default locations); a backend
    or location that fails is noted, not fatal."""
    scope: Scope = wanted if isinstance(wanted, Mapping) else {name: () for name in wanted}
    observation = Observation()
    for name in sorted(scope):
        try:
            backend = provider(name)
        except BackendError as exc:
            _fail(observation, name, exc, WHOLE)
            continue
        for location in locations(backend, scope[name]):
            refresh(observation, name, backend, location, policy=policy, clock=clock, rng=rng)
    return observation


def refresh(
    observation: Observation,
    name: str,
    backend: Backend,
    location: str,
    *,
    policy: RetryPolicy = OBSERVE_RETRY,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> bool:
    """List one location of a backend (all of it for `WHOLE`) into
    `observation`, replacing what it said before; False when that failed."""
    clock = clock or SystemClock()
    where = f" in {location}" if location else ""
    try:
        jobs = call_with_retry(
            lambda: list(_listing(backend, location, MANAGED_SELECTOR)),
            what=f"listing {name} jobs{where}",
            policy=policy,
            clock=clock,
            rng=rng,
        )
    except BackendError as exc:
        _fail(observation, name, exc, location)
        return False
    observation.add(name, jobs, location, at=clock.monotonic())
    return True


def _fail(observation: Observation, name: str, exc: BackendError, location: str) -> None:
    message = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
    permanent = isinstance(exc, PermanentBackendError)
    observation.fail(name, message, permanent=permanent, location=location)


def _listing(backend: Backend, location: str, selector: Mapping[str, str]) -> Iterable[RemoteJob]:
    if location and isinstance(backend, Located):
        return backend.list_at(location, selector)
    return backend.list(selector)


def lookup_key(backend: Backend, key: str, where: str | None = None) -> RemoteJob | None:
    """The job carrying submit key `key`, if the backend has one: one list
    call, in the location of `where` (a remote name or parent) when known."""
    selector = {**MANAGED_SELECTOR, LABEL_FINGERPRINT: key_label(key)}
    location = backend.location_of(where) if isinstance(backend, Located) and where else None
    for job in _listing(backend, location or WHOLE, selector):
        return job
    return None
