"""A saved plan of a recurring spec is applied exactly: the runs it shows,
with the ticks it records as missed, and nothing twice."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from batchspec.plan import ActionKind, PlanOptions, build_plan
from batchspec.plan.saved import load_plan, save_plan
from batchspec.reconcile.apply import ApplyContext, apply_saved
from batchspec.state.records import RunOutcome
from tests.schedule.conftest import World, nightly

START = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)


def test_saved_plan_runs_the_ticks_it_shows_and_records_the_missed_ones(
    world: World, tmp_path: Path
) -> None:
    world.docs = [nightly(catchUp=1)]
    world.at(START)  # recorded
    world.clock.current = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # three nights later
    plan = build_plan(
        world.desired(),
        world.store.snapshot(),
        revisions=world.store.revisions,
        options=PlanOptions(now=world.clock.now()),
    )
    runs = [a for a in plan.actions if a.kind is ActionKind.RUN]
    assert [a.run.key for a in runs if a.run] == ["20260327T013000Z", "20260328T013000Z"]
    loaded = load_plan(save_plan(plan, tmp_path / "plan.json"), world.store)
    assert [(a.kind, a.run, a.decided, a.cursor) for a in loaded.actions] == [
        (a.kind, a.run, a.decided, a.cursor) for a in plan.actions
    ]
    ctx = ApplyContext(
        store=world.store,
        provider=lambda _t: world.backend,
        actor="apply",
        clock=world.clock,
        rng=random.Random(1),
    )
    result = apply_saved(ctx, loaded)
    assert result.ok and world.backend.creates == 2
    outcomes = {r.run_key: r.outcome for r in world.store.runs("nightly")}
    assert outcomes == {
        "20260326T013000Z": RunOutcome.MISSED,
        "20260327T013000Z": RunOutcome.RUN,
        "20260328T013000Z": RunOutcome.RUN,
    }
    world.at(datetime(2026, 3, 28, 12, 5, tzinfo=UTC))  # the controller: nothing twice
    assert world.backend.creates == 2
