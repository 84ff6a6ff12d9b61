"""The loader: the runner kind the spec names (`model.local.runner`), loaded.

It sits above the runner kinds (each imported only when a spec uses it, so
scikit-learn or onnxruntime never load for a job that does not need them),
and the kinds know only the contract in `base`."""

from __future__ import annotations

import importlib

from batchspec.engine.errors import ModelLoadError
from batchspec.engine.runners.base import Runner, RunnerContext
from batchspec.io import storage
from batchspec.model import runners as kinds


def load_runner(model: kinds.LocalModel, ctx: RunnerContext) -> Runner:
    """Load the model named by `model` (one of the runner kinds)."""
    match model:
        case kinds.PythonRunner():
            from batchspec.engine.runners.python import PythonModel

            return PythonModel.load(model, ctx)
        case kinds.SklearnRunner():
            from batchspec.engine.runners.sklearn import SklearnModel

            return SklearnModel.load(model, ctx)
        case kinds.OnnxRunner():
            from batchspec.engine.runners.onnx import OnnxModel

            return OnnxModel.load(model, ctx)
        case kinds.HttpRunner():
            from batchspec.engine.runners.http import HttpModel

            return HttpModel.start(model, ctx)
        case kinds.CommandRunner():
            from batchspec.engine.runners.command import CommandModel

            return CommandModel(model, ctx)
        case kinds.ContainerRunner():
            from batchspec.engine.runners.container import launch

            return launch(model, ctx)
    raise ModelLoadError(f"unknown runner {type(model).__name__}")


def preload(model: kinds.LocalModel, ctx: RunnerContext) -> None:
    """Import what the runner's model needs now, before several workers are
    forked, so they share one import instead of each paying for its own. For
    a scikit-learn model in a local file that means loading it once (the
    modules its pickle names are the heavy part; the model itself is dropped:
    each worker loads its own). Failures are left for the workers to report
    properly."""
    try:
        match model:
            case kinds.SklearnRunner() if not storage.is_url(model.path):
                from batchspec.engine.runners.sklearn import SklearnModel

                SklearnModel.load(model, ctx)
            case kinds.SklearnRunner():
                for module in ("numpy", "joblib", "sklearn"):
                    importlib.import_module(module)
            case kinds.OnnxRunner():  # sessions are not fork-safe: the library only
                for module in ("numpy", "onnxruntime"):
                    importlib.import_module(module)
    except Exception:
        return
