"""batchspec.plan."""
