"""batchspec.compile."""
