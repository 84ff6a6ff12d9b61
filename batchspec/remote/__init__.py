"""Remote state: the state file kept in a bucket, shared by every machine that
applies the same specs, the way Terraform's `gcs` backend keeps its state.

`--state gs://bucket/prefix` (or `$BATCHSPEC_STATE`) selects it. The local
SQLite store stays the one implementation of the recording protocol and the
working copy; this package moves that file to and from the bucket under a
lock object created with a generation precondition (`lock`), with every
write guarded by the generation it replaces and the replaced generation kept
(`workcopy`). `protocol.RemoteBackend` is the whole interface a storage
service has to offer (`gcs` implements it for Cloud Storage); `session` is
what a command opens. Imported only when a remote location is used.
"""

from batchspec.remote.location import RemoteLocation, is_remote
from batchspec.remote.protocol import LockRecord, RemoteBackend, StateObject

__all__ = ["LockRecord", "RemoteBackend", "RemoteLocation", "StateObject", "is_remote"]
