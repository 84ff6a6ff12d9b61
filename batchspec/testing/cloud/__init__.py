"""A local double of the Vertex AI, google-genai (v1beta1) and ML Engine REST
APIs, for the real client libraries (`CloudDouble().start()`, then point a
backend's endpoint at its `url`). It needs the `vertex` extra."""

from batchspec.testing.cloud.executor import (
    ExecutionRequest,
    ExecutionResult,
    Executor,
    FileExecutor,
    predict,
)
from batchspec.testing.cloud.faults import Fault, Faults
from batchspec.testing.cloud.jobs import StoredJob
from batchspec.testing.cloud.server import CloudDouble

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
