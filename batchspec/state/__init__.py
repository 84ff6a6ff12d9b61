"""The state stage: an embedded SQLite store of what batchspec did and saw.

It records spec revisions (fingerprints), jobs (backend, remote name, state,
times, counts, output location), every transition, every drift finding, every
job name ever used, and the controller lease. Schema changes are numbered
migrations; a backup is written before any migration runs.
"""

from batchspec.state.lease import Holder, Lease, LeaseKeeper, this_process
from batchspec.state.paths import DEFAULT_STATE_PATH, STATE_ENV, resolve_state_path
from batchspec.state.records import (
    Disposition,
    DriftEvent,
    DriftFinding,
    DriftKind,
    JobRecord,
    Phase,
    RevisionRecord,
    StateSnapshot,
    Transition,
)
from batchspec.state.store import StateStore

__all__ = [
    "DEFAULT_STATE_PATH",
    "STATE_ENV",
    "Disposition",
    "DriftEvent",
    "DriftFinding",
    "DriftKind",
    "Holder",
    "JobRecord",
    "Lease",
    "LeaseKeeper",
    "Phase",
    "RevisionRecord",
    "StateSnapshot",
    "StateStore",
    "Transition",
    "resolve_state_path",
    "this_process",
]
