"""Observation: what the backends report, at the cost of one list per page.

Every job batchspec submits carries the managed-by label, so one paged
`list(selector={managed-by: batchspec})` per backend shows all of them: a
pass over 1,000 jobs costs ten list pages, not a thousand gets.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from batchspec.backends.base import Backend
from batchspec.backends.registry import BackendProvider
from batchspec.errors import BackendError, PermanentBackendError
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_MANAGED_BY, MANAGED_BY_VALUE, RemoteJob
from batchspec.plan.attempts import key_label
from batchspec.plan.observed import Observation
from batchspec.reconcile.clock import Clock
from batchspec.retry import RetryPolicy, call_with_retry

MANAGED_SELECTOR = {LABEL_MANAGED_BY: MANAGED_BY_VALUE}
OBSERVE_RETRY = RetryPolicy(initial=0.5, maximum=10.0, deadline=60.0)
"""One backend's listing: a backend that stays down is noted and the pass goes on."""


def observe(
    backends: Iterable[str],
    provider: BackendProvider,
    *,
    policy: RetryPolicy = OBSERVE_RETRY,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> Observation:
    """List every managed job of each backend; a backend that fails is noted, not fatal."""
    observation = Observation()
    for name in sorted(set(backends)):
        try:
            backend = provider(name)
            jobs = call_with_retry(
                lambda backend=backend: list(backend.list(MANAGED_SELECTOR)),  # type: ignore[misc]
                what=f"listing {name} jobs",
                policy=policy,
                clock=clock,
                rng=rng,
            )
        except BackendError as exc:
            message = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
            observation.fail(name, message, permanent=isinstance(exc, PermanentBackendError))
            continue
        observation.add(name, jobs)
    return observation


def lookup_key(backend: Backend, key: str) -> RemoteJob | None:
    """The job carrying submit key `key`, if the backend has one (one list call)."""
    selector = {**MANAGED_SELECTOR, LABEL_FINGERPRINT: key_label(key)}
    for job in backend.list(selector):
        return job
    return None
