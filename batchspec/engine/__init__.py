"""batchspec.engine."""
