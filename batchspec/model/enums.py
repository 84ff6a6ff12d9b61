"""Plain enumerations shared by every stage.

They are `StrEnum`s so that a spec value, a JSON body and a database column
all hold the same spelling, and so that the JSON Schema lists them verbatim.
"""

from __future__ import annotations

from enum import StrEnum


class Target(StrEnum):
    """Where a job runs. `local` is the embedded engine and the default."""

    LOCAL = "local"
    VERTEX = "vertex"
    MLENGINE = "mlengine"
    GENAI = "genai"
    RAY = "ray"


CLOUD_TARGETS = frozenset({Target.VERTEX, Target.MLENGINE, Target.GENAI})


class DataFormat(StrEnum):
    """Input and output data formats in batchspec's own vocabulary.

    Each target maps them to its own names (ML Engine `JSON`, Vertex `jsonl`,
    ...); which formats a target accepts in which direction is a validation
    rule, not a property of the enum.
    """

    JSONL = "JSONL"
    TEXT = "TEXT"
    CSV = "CSV"
    TF_RECORD = "TF_RECORD"
    TF_RECORD_GZIP = "TF_RECORD_GZIP"
    FILE_LIST = "FILE_LIST"
    BIGQUERY = "BIGQUERY"


class JobState(StrEnum):
    """One state vocabulary for every backend (Vertex AI's twelve, unprefixed).

    PAUSED and UPDATING are *not* terminal, although both Google SDKs treat
    every non-running state as done; EXPIRED and PARTIALLY_SUCCEEDED are.
    """

    UNSPECIFIED = "UNSPECIFIED"
    QUEUED = "QUEUED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    PAUSED = "PAUSED"
    EXPIRED = "EXPIRED"
    UPDATING = "UPDATING"
    PARTIALLY_SUCCEEDED = "PARTIALLY_SUCCEEDED"

    @property
    def terminal(self) -> bool:
        """True once the job can never change state again."""
        return self in TERMINAL_STATES

    @property
    def successful(self) -> bool:
        """True for the end states whose outputs are meant to be read."""
        return self in (JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED)


TERMINAL_STATES = frozenset(
    {
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.EXPIRED,
        JobState.PARTIALLY_SUCCEEDED,
    }
)


class Severity(StrEnum):
    """How bad a diagnostic is. Only errors make `validate` exit non-zero."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
