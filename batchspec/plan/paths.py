"""From spec paths to a plan in one call: the library's `terraform plan`.

`batchspec plan` assembles the same parts itself (it checks `--replace`
against the specs before it opens the state, and observes backends with
`--refresh`); a program that only wants to know what applying would do
calls this.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from batchspec.plan.actions import Plan
from batchspec.plan.builder import PlanOptions, plan_against
from batchspec.plan.desired import Desired, load_desired
from batchspec.plan.observed import Observation
from batchspec.state.store import StateStore


def plan_paths(
    paths: Iterable[str | Path],
    state: StateStore | str | Path | None = None,
    *,
    select: Sequence[str] = (),
    targets: Sequence[str] = (),
    observation: Observation | None = None,
    options: PlanOptions | None = None,
) -> Plan:
    """The plan for the specs under `paths` against recorded `state`.

    `state` is an open store or the path of a state file (read, never
    created: a missing file is an empty state); None plans against an
    empty state, as on a first apply. `observation` (what the backends
    report, `batchspec.reconcile.observe`) makes it a refreshed plan."""
    desired = load_desired([str(p) for p in paths], select=select, targets=targets)
    if isinstance(state, StateStore):
        return _build(desired, state, observation, options)
    store = StateStore.memory() if state is None else StateStore.open(state, create=False)
    with store:
        return _build(desired, store, observation, options)


def _build(
    desired: Desired,
    store: StateStore,
    observation: Observation | None,
    options: PlanOptions | None,
) -> Plan:
    return plan_against(desired, store, observation, options)
