"""Backends behind one Protocol (`batchspec.backends.base.Backend`)."""
