"""A Cloud Storage JSON API double that honours generations, preconditions
(412 on mismatch) and object versions, for the remote state's lock and
guarded writes (`batchspec.testing.gcs.server.StorageDouble`)."""

from batchspec.testing.gcs.objects import ObjectStore, Preconditions, StorageFailureError, Version
from batchspec.testing.gcs.routes import Hold
from batchspec.testing.gcs.server import Call, StorageDouble

__all__ = [
    "Call",
    "Hold",
    "ObjectStore",
    "Preconditions",
    "StorageDouble",
    "StorageFailureError",
    "Version",
]
