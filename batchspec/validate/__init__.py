"""The validate stage: JSON Schema structure plus the rules from the seeds."""

from batchspec.validate.validator import (
    LoadedSpec,
    ValidationResult,
    locate,
    validate_loaded,
    validate_paths,
)

__all__ = ["LoadedSpec", "ValidationResult", "locate", "validate_loaded", "validate_paths"]
