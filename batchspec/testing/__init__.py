"""Test support that ships with batchspec, for its own tests, `bench/` and
the tests of programs built on it. Import the modules themselves (`from
batchspec.testing.specs import spec_doc`); nothing here is imported by
batchspec's own stages."""
