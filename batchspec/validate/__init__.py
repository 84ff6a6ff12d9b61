"""The validate stage: JSON Schema structure plus the rules of the services.

The re-exports are resolved on first use (PEP 562), so importing a light
module of this package (the rules, `modeldocs`, `targets`) does not import
the validator, whose structure check needs pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchspec.validate.loaded import Loaded, LoadedModel, LoadedSpec
    from batchspec.validate.paths import validate_paths
    from batchspec.validate.validator import ValidationResult, locate, validate_loaded

_HOMES = {
    "Loaded": "batchspec.validate.loaded",
    "LoadedModel": "batchspec.validate.loaded",
    "LoadedSpec": "batchspec.validate.loaded",
    "ValidationResult": "batchspec.validate.validator",
    "locate": "batchspec.validate.validator",
    "validate_loaded": "batchspec.validate.validator",
    "validate_paths": "batchspec.validate.paths",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "Loaded",
    "LoadedModel",
    "LoadedSpec",
    "ValidationResult",
    "locate",
    "validate_loaded",
    "validate_paths",
]
