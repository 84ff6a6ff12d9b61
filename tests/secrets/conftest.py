"""The cloud tests' REST double and backends, for the on-the-wire checks."""

from tests.cloud.conftest import double, fast_retry, make_spec, sleeps, vertex

__all__ = ["double", "fast_retry", "make_spec", "sleeps", "vertex"]
