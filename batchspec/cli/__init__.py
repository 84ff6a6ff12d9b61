"""batchspec.cli."""
