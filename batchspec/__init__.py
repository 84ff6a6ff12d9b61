"""batchspec: batch prediction jobs as code.

The library API is the pipeline's stages, one module each, reached from the
top-level package (docs/api.md shows them at work):

    import batchspec

    batchspec.load.load_paths(paths)          documents with a source map
    batchspec.validate.validate_paths(paths)  typed specs + located diagnostics
    batchspec.compile.compile_paths(paths)    the exact request per spec + fingerprint
    batchspec.plan.plan_paths(paths, store)   what applying would do, with reasons
    batchspec.results.job_results(outputs)    a job's predictions, joined to its inputs

`batchspec.errors` holds the exception tree. Each stage is imported on first
use (PEP 562), so `import batchspec` costs nothing and `batchspec validate`
starts fast; heavy libraries (cloud clients, model runtimes, Pulumi, Ray)
are imported only by the stage that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from batchspec import _native

_native.install()  # compiled modules only where they match their sources

if TYPE_CHECKING:
    from batchspec import compile, errors, load, plan, results, validate

__version__ = "0.1.0"

STAGES = ("load", "validate", "compile", "plan", "results", "errors")


def __getattr__(name: str) -> Any:
    if name in STAGES:
        return importlib.import_module(f"batchspec.{name}")
    raise AttributeError(f"module 'batchspec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *STAGES])


__all__ = ["STAGES", "__version__", "compile", "errors", "load", "plan", "results", "validate"]
