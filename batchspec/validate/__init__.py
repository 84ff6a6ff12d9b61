"""The validate stage: JSON Schema structure plus the rules of the services."""

from batchspec.validate.paths import validate_paths
from batchspec.validate.validator import (
    Loaded,
    LoadedModel,
    LoadedSpec,
    ValidationResult,
    locate,
    validate_loaded,
)

__all__ = [
    "Loaded",
    "LoadedModel",
    "LoadedSpec",
    "ValidationResult",
    "locate",
    "validate_loaded",
    "validate_paths",
]
