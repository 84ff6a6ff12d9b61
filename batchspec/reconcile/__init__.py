"""batchspec.reconcile."""
