"""The loader: the runner kind the spec names (`model.local.runner`), loaded.

It sits above the runner kinds (each imported only when a spec uses it, so
scikit-learn or onnxruntime never load for a job that does not need them),
and the kinds know only the contract in `base`."""

from __future__ import annotations

import importlib

from batchspec.engine.errors import ModelLoadError
from batchspec.engine.runners.base import Runner, RunnerContext
from batchspec.model.spec import (
    CommandRunner,
    HttpRunner,
    LocalModel,
    OnnxRunner,
    PythonRunner,
    SklearnRunner,
)


def load_runner(model: LocalModel, ctx: RunnerContext) -> Runner:
    """Load the model named by `model` (one of the runner kinds)."""
    match model:
        case PythonRunner():
            from batchspec.engine.runners.python import PythonModel

            return PythonModel.load(model, ctx)
        case SklearnRunner():
            from batchspec.engine.runners.sklearn import SklearnModel

            return SklearnModel.load(model, ctx)
        case OnnxRunner():
            from batchspec.engine.runners.onnx import OnnxModel

            return OnnxModel.load(model, ctx)
        case HttpRunner():
            from batchspec.engine.runners.http import HttpModel

            return HttpModel.start(model, ctx)
        case CommandRunner():
            from batchspec.engine.runners.command import CommandModel

            return CommandModel(model, ctx)
    raise ModelLoadError(f"unknown runner {type(model).__name__}")


PRELOAD = {
    "sklearn": ("numpy", "joblib", "sklearn"),
    "onnx": ("numpy", "onnxruntime"),
}


def preload(model: LocalModel) -> None:
    """Import the runner's heavy libraries now, before several workers are
    forked, so they share one import instead of each paying for its own.
    Failures are left for the workers to report properly."""
    for module in PRELOAD.get(model.runner, ()):
        try:
            importlib.import_module(module)
        except Exception:
            continue
