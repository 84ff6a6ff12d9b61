"""Data types shared by every stage: the spec models, enums and job records."""

from batchspec.model.enums import CLOUD_TARGETS, DataFormat, JobState, Severity, Target
from batchspec.model.spec import API_VERSION, KIND, BatchPredictionJobSpec, JobSpec

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
