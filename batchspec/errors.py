"""The exception tree. Library code raises these; the CLI maps them to exit codes.

Modelled on httpx and kopf: one root, and a split between *temporary* errors
(retry with backoff: 429, 503, timeouts, a lease held by a live owner) and
*permanent* ones (retrying cannot help: a bad spec, 400, 403).

    BatchspecError
    ├── SpecError                 specs did not validate (carries diagnostics)
    ├── CompileError              a valid spec cannot be compiled for a target
    ├── BackendError
    │   ├── TemporaryBackendError retry with backoff
    │   │   └── AmbiguousSubmitError  the create may or may not have happened
    │   ├── PermanentBackendError retrying cannot help
    │   └── JobNotFoundError
    ├── EngineError               the local engine could not run a job
    ├── StateError                the state store is unusable (corrupt, too new)
    │   ├── LeaseHeldError        another controller holds the lease
    │   │   └── RemoteLockedError another process holds the remote state's lock
    │   ├── RemoteStateError      remote state cannot be reached, read or written
    │   └── StateConflictError    someone else wrote the remote state meanwhile
    └── PlanError                 a saved plan no longer applies
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from batchspec.diagnostics import Diagnostic


class BatchspecError(Exception):
    """Root of every error batchspec raises on purpose. `hint` says what to do."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class SpecError(BatchspecError):
    """One or more specs are invalid; `diagnostics` says where and why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.is_error]
        super().__init__(f"{len(errors)} error(s) in specs")
        self.diagnostics = list(diagnostics)


class CompileError(BatchspecError):
    """A valid spec that cannot be expressed for the requested target."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        first = diagnostics[0].message if diagnostics else "cannot compile"
        super().__init__(first)
        self.diagnostics = list(diagnostics)


class BackendError(BatchspecError):
    """A backend call failed."""


class TemporaryBackendError(BackendError):
    """Worth retrying with backoff (429, 500, 503, timeouts)."""


class AmbiguousSubmitError(TemporaryBackendError):
    """The submit may have reached the service: list by fingerprint before retrying."""


class PermanentBackendError(BackendError):
    """Retrying cannot help (400, 403, 404 on create, a spec the service rejects)."""


class JobNotFoundError(BackendError):
    """The backend has no job by that name."""


class EngineError(BatchspecError):
    """The local engine could not run a job (model does not load, output refused...)."""


class StateError(BatchspecError):
    """The state store is unusable: corrupt, newer than this batchspec, unwritable."""


class LeaseHeldError(StateError):
    """Another live process holds the controller lease."""


class RemoteLockedError(LeaseHeldError):
    """The remote state's lock object is held (by a live process or a stale one);
    it is broken only on request (`batchspec state break-lock`)."""


class RemoteStateError(StateError):
    """Remote state cannot be reached, read or written (no bucket, no permission,
    no credentials, no answer)."""


class StateConflictError(StateError):
    """A generation precondition failed: someone else wrote the remote state since
    it was read. Never retried blindly: read again and plan again."""


class PlanError(BatchspecError):
    """A saved plan cannot be applied (state moved since it was made)."""
