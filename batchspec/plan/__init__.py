"""The plan stage: desired (specs) vs recorded (state) vs observed (backends).

`plan_paths` is the whole stage in one call. `load_desired` validates and
compiles specs (through `batchspec.compile.compile_paths`); `build_plan`
turns them, a state snapshot and (with --refresh) an observation into
actions with reasons; the
renderers show a plan to a terminal, a pull request or a machine, and a
saved plan is what `apply` can execute exactly.
"""

from batchspec.plan.actions import KIND_ORDER, Action, ActionKind, Plan
from batchspec.plan.attempts import retry_not_before
from batchspec.plan.builder import PlanOptions, build_plan
from batchspec.plan.desired import Desired, Problem, desired_from, load_desired
from batchspec.plan.observed import Observation
from batchspec.plan.paths import plan_paths

__all__ = [
    "KIND_ORDER",
    "Action",
    "ActionKind",
    "Desired",
    "Observation",
    "Plan",
    "PlanOptions",
    "Problem",
    "build_plan",
    "desired_from",
    "load_desired",
    "plan_paths",
    "retry_not_before",
]
