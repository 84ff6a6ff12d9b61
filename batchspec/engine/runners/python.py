"""A Python callable as the model: `module:function` or a class with `predict`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from batchspec.engine.errors import ModelLoadError, missing_extra_hint
from batchspec.engine.runners.base import RunnerContext
from batchspec.io import storage
from batchspec.model.spec import PythonRunner


class PythonModel:
    """Calls the user's function (or object's `predict`) with a list of instances."""

    isolate_failures = True

    def __init__(self, fn: Callable[[list[Any]], Sequence[Any]], target: Any) -> None:
        self._fn = fn
        self._target = target

    @classmethod
    def load(cls, cfg: PythonRunner, ctx: RunnerContext) -> PythonModel:
        """Import the callable; instantiate it once when it is a class."""
        for folder in reversed(cfg.python_path):
            where = storage.resolve(folder, ctx.spec_dir)
            if where not in sys.path:
                sys.path.insert(0, where)
        module_name, _, attr = cfg.callable.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            hint = missing_extra_hint(getattr(exc, "name", None)) or (
                "check `callable` and `pythonPath` (folders relative to the spec file)"
            )
            raise ModelLoadError(
                f"cannot import {module_name!r} for callable {cfg.callable!r}: {exc}", hint=hint
            ) from exc
        except Exception as exc:
            raise ModelLoadError(
                f"importing {module_name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        target = getattr(module, attr, None)
        if target is None:
            raise ModelLoadError(
                f"module {module_name!r} has no attribute {attr!r}",
                hint="`callable` is `package.module:name`",
            )
        if isinstance(target, type):
            try:
                obj = target(**cfg.init_args)
            except ImportError as exc:
                raise ModelLoadError(
                    f"{cfg.callable} could not load: {exc}",
                    hint=missing_extra_hint(getattr(exc, "name", None)),
                ) from exc
            except Exception as exc:
                raise ModelLoadError(
                    f"{cfg.callable}({', '.join(cfg.init_args)}) failed:"
                    f" {type(exc).__name__}: {exc}",
                    hint="check `initArgs`",
                ) from exc
            predict = getattr(obj, "predict", None)
            if not callable(predict):
                raise ModelLoadError(f"{cfg.callable} objects have no predict(instances) method")
            return cls(predict, obj)
        if cfg.init_args:
            raise ModelLoadError(
                f"{cfg.callable} is a function; `initArgs` are only for classes",
                hint="remove `initArgs`, or point `callable` at a class",
            )
        if not callable(target):
            raise ModelLoadError(f"{cfg.callable} is not callable")
        return cls(target, target)

    def predict(self, instances: list[Any]) -> Sequence[Any]:
        """Call the model."""
        out = self._fn(instances)
        if hasattr(out, "tolist"):
            listed: list[Any] = out.tolist()
            return listed
        return out

    def close(self) -> None:
        """Call the model's `close()` when it has one."""
        close = getattr(self._target, "close", None)
        if callable(close) and not isinstance(self._target, type):
            close()
