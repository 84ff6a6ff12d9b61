"""Data types shared by every stage: the spec models, enums and job records.

The re-exports are resolved on first use (PEP 562): importing a light
module of this package (`enums`, `limits`, `behaviour`) must not import
`spec`, whose pydantic import alone costs more than `batchspec validate`
may take to start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchspec.model.enums import CLOUD_TARGETS, DataFormat, JobState, Severity, Target
    from batchspec.model.limits import API_VERSION, KIND
    from batchspec.model.spec import BatchPredictionJobSpec, JobSpec

_HOMES = {
    "API_VERSION": "batchspec.model.limits",
    "CLOUD_TARGETS": "batchspec.model.enums",
    "KIND": "batchspec.model.limits",
    "BatchPredictionJobSpec": "batchspec.model.spec",
    "DataFormat": "batchspec.model.enums",
    "JobSpec": "batchspec.model.spec",
    "JobState": "batchspec.model.enums",
    "Severity": "batchspec.model.enums",
    "Target": "batchspec.model.enums",
}


__all__ = [
    "API_VERSION",
    "CLOUD_TARGETS",
    "KIND",
    "BatchPredictionJobSpec",
    "DataFormat",
    "JobSpec",
    "JobState",
    "Severity",
    "Target",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
