"""The validate stage: JSON Schema structure plus the rules of the services."""

from batchspec.validate.paths import validate_paths
from batchspec.validate.validator import (
    LoadedSpec,
    ValidationResult,
    locate,
    validate_loaded,
)

__all__ = ["LoadedSpec", "ValidationResult", "locate", "validate_loaded", "validate_paths"]
