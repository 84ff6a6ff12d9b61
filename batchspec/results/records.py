"""What a batch job's outputs hold, one record per line or row.

A `ResultRecord` is one output line as written (a prediction, a per-instance
error, or an aggregated error count from an `errors_stats` file); a
`JoinedRecord` is one *input* instance with what became of it, after
`join.join_inputs` matched outputs to inputs by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class ResultError:
    """An error as the service reports it: a google.rpc.Status-like code and message."""

    message: str
    code: int | str | None = None

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})" if self.code is not None else self.message


@dataclass(frozen=True)
class ResultRecord:
    """One line of a result or error file (or one row of a BigQuery table).

    `key` is set when the job had a keyField (Vertex writes `key` instead of
    `instance`); `count` is above 1 only for aggregated errors_stats lines."""

    key: Any = None
    instance: Any = None
    prediction: Any = None
    error: ResultError | None = None
    source: str | None = None
    count: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


class Outcome(StrEnum):
    """What happened to one input instance."""

    PREDICTED = "predicted"
    FAILED = "failed"
    MISSING = "missing"  # no prediction and no error names it
    UNMATCHED = "unmatched"  # an output no input matches (key changed, extra output)


@dataclass(frozen=True)
class JoinedRecord:
    """One input instance and its prediction or error."""

    key: Any
    instance: Any
    prediction: Any = None
    error: ResultError | None = None
    outcome: Outcome = Outcome.PREDICTED
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for `batchspec results -o json`)."""
        out: dict[str, Any] = {"key": self.key, "outcome": self.outcome.value}
        if self.instance is not None:
            out["instance"] = self.instance
        if self.prediction is not None:
            out["prediction"] = self.prediction
        if self.error is not None:
            out["error"] = {"code": self.error.code, "message": self.error.message}
        return out


__all__ = ["JoinedRecord", "Outcome", "ResultError", "ResultRecord"]
