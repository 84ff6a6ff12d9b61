"""Model runners: what turns a batch of instances into a batch of predictions.

One runner is loaded per worker process (`load_runner`) and called once per
batch. The spec chooses the kind (`model.local.runner`): a Python callable,
scikit-learn, ONNX Runtime, an HTTP server following Vertex AI's custom
container contract, or a command following batchspec's local file contract.
Each kind is imported only when a spec uses it, so scikit-learn or
onnxruntime never load for a job that does not need them.

`base` is the contract every kind implements; `loader` picks the kind.
"""

from __future__ import annotations

from batchspec.engine.runners.base import Runner, RunnerContext
from batchspec.engine.runners.loader import load_runner

__all__ = ["Runner", "RunnerContext", "load_runner"]
