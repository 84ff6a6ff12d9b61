"""A local double of the Vertex AI, google-genai (v1beta1) and ML Engine REST APIs."""

from tests.cloud.double.executor import (
    ExecutionRequest,
    ExecutionResult,
    Executor,
    FileExecutor,
    predict,
)
from tests.cloud.double.faults import Fault, Faults
from tests.cloud.double.server import CloudDouble, StoredJob

__all__ = [
    "CloudDouble",
    "ExecutionRequest",
    "ExecutionResult",
    "Executor",
    "Fault",
    "Faults",
    "FileExecutor",
    "StoredJob",
    "predict",
]
