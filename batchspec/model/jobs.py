"""Records that flow between compile, backends, the controller and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchspec.model import limits
from batchspec.model.enums import JobState, Target
from batchspec.model.revision import Revisioned

if TYPE_CHECKING:  # the records only carry specs: their labels need no pydantic
    from batchspec.model.modelspec import ModelDocument, ModelSpec
    from batchspec.model.spec import BatchPredictionJobSpec, JobSpec

# The labels batchspec owns, defined with the limits (the rules read them
# without this module's dataclasses) and named here, where jobs are.
LABEL_MANAGED_BY = limits.LABEL_MANAGED_BY
LABEL_JOB = limits.LABEL_JOB
LABEL_FINGERPRINT = limits.LABEL_FINGERPRINT
LABEL_MODEL = limits.LABEL_MODEL
MANAGED_BY_VALUE = limits.MANAGED_BY_VALUE


@dataclass(frozen=True)
class CompiledJob(Revisioned):
    """A spec compiled for one target: the exact request and its identity.

    `body` is what the service's create call receives; `fingerprint` is the
    sha256 of its canonical form (without batchspec's own labels) and names
    this revision of the job everywhere: labels, state, plans.

    `spec` is the document as written, which state and saved plans record;
    `effective` is its `spec:` block as it runs on `target`: the target
    itself, and the project and region settled (from the environment where
    the document names none). Everything downstream of compile (the engine,
    the controller's policy, the Pulumi layout) reads `effective`, so no
    stage has to settle the target again.
    """

    name: str
    target: Target
    body: Mapping[str, Any]
    fingerprint: str
    spec: BatchPredictionJobSpec
    effective: JobSpec
    labels: Mapping[str, str] = field(default_factory=dict)
    parent: str | None = None
    source: Path | None = None
    model_ref: str | None = None  # the Model document it runs (`model: {ref: NAME}`)


@dataclass(frozen=True)
class CompiledModel(Revisioned):
    """A Model document compiled into its `models.upload` request.

    `body` is the UploadModelRequest (`modelId` for the model's first version;
    apply sends the same request with `parentModel` once the model exists);
    `fingerprint` is the sha256 of it without batchspec's labels and its
    revision alias. Versions are found by that alias: `version` names this
    revision before it is uploaded, which is what a job's request carries."""

    name: str
    body: Mapping[str, Any]
    fingerprint: str
    spec: ModelDocument
    effective: ModelSpec
    parent: str  # projects/P/locations/L
    model_id: str  # the model the versions go under
    alias: str  # this revision's version alias
    labels: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = None
    requires: tuple[str, ...] = ()  # Model documents uploaded before this one

    @property
    def resource(self) -> str:
        """`projects/P/locations/L/models/ID`: the model, all its versions."""
        return f"{self.parent}/models/{self.model_id}"

    @property
    def version(self) -> str:
        """`projects/P/locations/L/models/ID@ALIAS`: this revision."""
        return f"{self.resource}@{self.alias}"


@dataclass(frozen=True)
class RemoteJob:
    """A job as a backend reports it, in batchspec's vocabulary."""

    backend: str
    remote_name: str
    job_name: str
    fingerprint: str | None
    state: JobState
    labels: Mapping[str, str] = field(default_factory=dict)
    create_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    completed_count: int = 0
    failed_count: int = 0
    total_count: int | None = None
    output_location: str | None = None
    error: str | None = None
    partial_failures: tuple[str, ...] = ()

    @property
    def terminal(self) -> bool:
        """True once the job can no longer change."""
        return self.state.terminal
