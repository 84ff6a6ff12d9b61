"""batchspec: batch prediction jobs as code.

The public surface is small on purpose: load and validate specs, compile them,
and the exception tree in `batchspec.errors`. Everything heavy (cloud clients,
model libraries, Pulumi, Ray) is imported only by the stage that needs it.
"""

__version__ = "0.1.0"
