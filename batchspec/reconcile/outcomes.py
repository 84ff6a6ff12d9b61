"""What executing actions produced, shared by the executor and its parts."""

from __future__ import annotations

from dataclasses import dataclass, field

from batchspec.errors import TemporaryBackendError
from batchspec.plan.actions import Action
from batchspec.plan.observed import Observation
from batchspec.reconcile.models import ModelOutcome
from batchspec.state.records import JobRecord


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
    models: list[ModelOutcome] = field(default_factory=list)  # uploads, before the jobs

    @property
    def failed(self) -> list[Outcome]:
        """Actions that did not succeed."""
        return [o for o in self.outcomes if not o.ok and not o.skipped]

    @property
    def any_failed(self) -> bool:
        """True when a job action or a model upload did not succeed."""
        return bool(self.failed or self.failed_models)

    @property
    def failed_models(self) -> list[ModelOutcome]:
        """Model uploads that did not succeed."""
        return [m for m in self.models if not m.ok]

    @property
    def done(self) -> list[Outcome]:
        """Actions carried out."""
        return [o for o in self.outcomes if o.ok and not o.skipped]


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
