"""What an ML Engine batch prediction job says, whichever way it was written.

Both import sources (a `projects.jobs` JSON body and a `gcloud ... jobs submit
prediction` command line) are parsed into `JobFields`; the spec is written
from those, and the body the source describes (`expected_body`) is what the
compiled spec must give back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from batchspec.errors import BatchspecError

SourceKind = Literal["json", "gcloud"]

# Service defaults (ml v1 PredictionInput): written out so bodies compare.
DEFAULT_MAX_WORKER_COUNT = 10
DEFAULT_BATCH_SIZE = 64
DEFAULT_OUTPUT_DATA_FORMAT = "JSON"
SERVICE_DEFAULTS: dict[str, int | str] = {
    "maxWorkerCount": DEFAULT_MAX_WORKER_COUNT,
    "batchSize": DEFAULT_BATCH_SIZE,
    "outputDataFormat": DEFAULT_OUTPUT_DATA_FORMAT,
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, named the way the input names it."""

    where: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        return text + (f" (hint: {self.hint})" if self.hint else "")


class MigrationError(BatchspecError):
    """The job body or command line cannot be imported; `problems` says where."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = [f"cannot import {what}: {len(self.problems)} problem(s)"]
        for p in self.problems:
            lines.append(f"  {p.where}: {p.message}")
            if p.hint:
                lines.append(f"      hint: {p.hint}")
        super().__init__("\n".join(lines))


@dataclass
class JobFields:
    """An ML Engine batch prediction job, as plain values (ML Engine spellings)."""

    name: str
    data_format: str
    input_paths: list[str]
    output_path: str
    region: str
    project: str | None = None
    model: str | None = None
    version: str | None = None
    uri: str | None = None
    max_worker_count: int | None = None
    batch_size: int | None = None
    runtime_version: str | None = None
    signature_name: str | None = None
    output_data_format: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # Where each value came from, in the source's words (for messages).
    origin: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    command: str | None = None  # the gcloud command as written, for the header


def where(fields: JobFields, key: str, default: str) -> str:
    """The source's name for a field (`--region`, `predictionInput.region`)."""
    return fields.origin.get(key, default)


def at_least_one(raw: int | str, at: str, problems: list[Problem], *, expected: str) -> int | None:
    """`raw` as a whole number of at least 1 (ML Engine's worker count and batch
    size), or None with the problem recorded: the body and the gcloud command
    line spell these numbers differently but bound them the same way."""
    try:
        number = int(raw)
    except ValueError:
        problems.append(Problem(at, f"expected {expected}, got {raw!r}"))
        return None
    if number < 1:
        problems.append(Problem(at, f"must be at least 1, got {number}"))
        return None
    return number
