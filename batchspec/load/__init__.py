"""batchspec.load."""
