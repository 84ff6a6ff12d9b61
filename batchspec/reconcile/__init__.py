"""The reconcile stage: apply, the controller loop, observation and drift.

* `observe` lists each backend's managed jobs (one call per page);
* `sync` folds what it saw into state and notices changes made outside;
* `Executor` carries out plan actions with exactly-once submission;
* `apply_desired` / `apply_saved` are `batchspec apply`;
* `Controller` is `batchspec reconcile` (and `apply --wait`);
* `detect_drift` is `batchspec drift`;
* `outputs` checks manifests, `results` reads predictions back.
"""

from batchspec.reconcile.apply import ApplyContext, ApplyResult, apply_desired, apply_saved
from batchspec.reconcile.clock import Clock, SystemClock
from batchspec.reconcile.controller import Controller, ControllerOptions, PassResult
from batchspec.reconcile.drift import DriftReport, detect_drift
from batchspec.reconcile.executor import ApplyReport, Executor, Outcome
from batchspec.reconcile.observe import observe
from batchspec.reconcile.sync import SyncResult, sync
from batchspec.retry import RetryPolicy, call_with_retry

__all__ = [
    "ApplyContext",
    "ApplyReport",
    "ApplyResult",
    "Clock",
    "Controller",
    "ControllerOptions",
    "DriftReport",
    "Executor",
    "Outcome",
    "PassResult",
    "RetryPolicy",
    "SyncResult",
    "SystemClock",
    "apply_desired",
    "apply_saved",
    "call_with_retry",
    "detect_drift",
    "observe",
    "sync",
]
