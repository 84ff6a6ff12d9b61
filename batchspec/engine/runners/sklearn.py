"""A scikit-learn estimator saved with joblib.

Unpickling runs code, so the file's sha256 must be pinned in the spec and is
checked against the exact bytes before they are unpickled.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from batchspec.engine.errors import ModelLoadError
from batchspec.engine.runners.base import (
    RunnerContext,
    as_list,
    import_optional,
    read_pinned,
    to_rows,
)
from batchspec.model.spec import SklearnRunner


class SklearnModel:
    """Calls `predict` (or the chosen method) on a 2-D batch."""

    isolate_failures = True

    def __init__(self, method: Any, features: Sequence[str] | None) -> None:
        self._method = method
        self._features = features
        self._np = import_optional("numpy", purpose="the sklearn runner")

    @classmethod
    def load(cls, cfg: SklearnRunner, ctx: RunnerContext) -> SklearnModel:
        """Check the pin, then unpickle."""
        if cfg.sha256 is None:
            raise ModelLoadError(
                f"refusing to unpickle {cfg.path}: its sha256 is not pinned (unpickling runs code)",
                hint=f"add `sha256:` with the output of `sha256sum {cfg.path}`",
            )
        where, data = read_pinned(cfg.path, ctx.spec_dir, cfg.sha256, what="scikit-learn model")
        joblib = import_optional("joblib", purpose="the sklearn runner")
        import_optional("sklearn", purpose="the sklearn runner")
        try:
            model = joblib.load(io.BytesIO(data))
        except Exception as exc:
            raise ModelLoadError(
                f"{where} is not a loadable joblib file: {type(exc).__name__}: {exc}",
                hint="save the estimator with joblib.dump(model, path)",
            ) from exc
        method = getattr(model, cfg.method, None)
        if not callable(method):
            raise ModelLoadError(
                f"the model in {where} ({type(model).__name__}) has no {cfg.method}()",
                hint="choose another `method`",
            )
        names = getattr(model, "feature_names_in_", None)
        features = cfg.features or (list(names) if names is not None else None)
        return cls(method, features)

    def predict(self, instances: list[Any]) -> Sequence[Any]:
        """One row per instance."""
        rows = to_rows(instances, self._features, runner="sklearn")
        return as_list(self._method(self._np.asarray(rows)))

    def close(self) -> None:
        """Nothing to release."""
