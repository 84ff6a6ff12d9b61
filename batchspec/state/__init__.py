"""batchspec.state."""
