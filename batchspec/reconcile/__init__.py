"""The reconcile stage: apply, the controller loop, observation and drift.

* `observe` lists each backend's managed jobs in every location in use
  (one call per page);
* `sync` folds what it saw into state and notices changes made outside;
* `reconcile_step` is observe, sync, drift and plan, written once for
  apply, the controller, drift, status and the Pulumi provider;
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
from batchspec.reconcile.step import Step, StepResult, reconcile_step
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
    "Step",
    "StepResult",
    "SyncResult",
    "SystemClock",
    "apply_desired",
    "apply_saved",
    "call_with_retry",
    "detect_drift",
    "observe",
    "reconcile_step",
    "sync",
]
