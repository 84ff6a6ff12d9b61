"""Plan renderers: text, markdown pull request comments (split), JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from batchspec.model.enums import JobState
from batchspec.plan import PlanOptions, build_plan, desired_from
from batchspec.plan.desired import Problem
from batchspec.plan.render_markdown import MARKER, render_markdown
from batchspec.plan.render_text import render_text
from batchspec.plan.saved import render_json
from batchspec.state import StateStore
from batchspec.testing.specs import compiled
from batchspec.testing.state import record_job

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def make_plan(creates: int = 2, replaces: int = 1, noops: int = 3, **spec_options: object):
    store = StateStore.memory(now=lambda: NOW)
    jobs = [compiled(f"new_{i:04d}", **spec_options) for i in range(creates)]
    for i in range(replaces):
        record_job(store, compiled(f"chg_{i:04d}", batch_size=64), JobState.SUCCEEDED)
        jobs.append(compiled(f"chg_{i:04d}", batch_size=32))
    for i in range(noops):
        job = compiled(f"same_{i:04d}")
        record_job(store, job, JobState.RUNNING)
        jobs.append(job)
    return build_plan(
        desired_from(jobs),
        store.snapshot(),
        revisions=store.revisions,
        options=PlanOptions(now=NOW),
    )


def test_text_lists_changes_with_reasons_and_summary() -> None:
    text = render_text(make_plan(), diff=True)
    assert "+ create   new_0000" in text
    assert "-/+ replace  chg_0000" in text and "spec changed" in text
    assert '-      "batchSize": 64' in text and '+      "batchSize": 32' in text
    assert "(3 unchanged job(s); --verbose lists them)" in text
    assert text.rstrip().endswith(
        "Plan: 2 to create, 1 to replace, 0 to resubmit, 0 to cancel, 0 to forget, 3 unchanged."
    )
    assert "same_0001" in render_text(make_plan(), verbose=True)


def test_markdown_puts_counts_first_and_one_section_per_changed_job() -> None:
    [comment] = render_markdown(make_plan())
    assert comment.startswith(MARKER)
    summary_at = comment.index("2 to create, 1 to replace")
    assert summary_at < comment.index("<details>")
    assert comment.count("<details><summary><b>") == 3  # two creates, one replace
    assert "```diff" in comment
    assert '-      "batchSize": 64,' in comment
    assert "3 unchanged job(s)" in comment
    assert "| create | 2 |" in comment


def test_markdown_splits_below_the_limit_and_keeps_every_job() -> None:
    plan = make_plan(creates=400, replaces=50, noops=2000)
    limit = 20_000
    comments = render_markdown(plan, limit=limit)
    assert len(comments) > 3
    assert all(len(c) <= limit for c in comments)
    assert all(c.startswith(MARKER) for c in comments)
    assert f"_part 1 of {len(comments)}_" in comments[0]
    assert f"_part {len(comments)} of {len(comments)}_" in comments[-1]
    joined = "".join(comments)
    for name in ("new_0000", "new_0399", "chg_0049", "same_1999"):
        assert len(re.findall(rf"<code>{name}</code>", joined)) == 1
    # real GitHub limit by default
    assert all(len(c) <= 65_536 for c in render_markdown(plan))


def test_markdown_cuts_a_diff_too_big_for_one_comment() -> None:
    plan = make_plan(creates=1, replaces=0, noops=0)
    action = plan.actions[0]
    big = {"spec": {"blob": ["x" * 100 for _ in range(2000)]}}
    plan.actions[0] = type(action)(
        **{**action.__dict__, "job": type(action.job)(**{**action.job.__dict__, "body": big})}
    )
    comments = render_markdown(plan, limit=20_000)
    assert all(len(c) <= 20_000 for c in comments)
    assert "diff cut:" in "".join(comments)


def test_markdown_fences_survive_backticks_in_bodies() -> None:
    plan = make_plan(creates=1, replaces=0, noops=0)
    action = plan.actions[0]
    body = {"note": "```\nnot the end"}
    plan.actions[0] = type(action)(
        **{**action.__dict__, "job": type(action.job)(**{**action.job.__dict__, "body": body})}
    )
    [comment] = render_markdown(plan)
    assert "````diff" in comment


def test_errors_are_shown_and_block_applying() -> None:
    plan = make_plan(creates=1, replaces=0, noops=0)
    plan.problems.append(
        Problem("cloudy", "cannot be compiled: no vertex yet", hint="use --select")
    )
    assert plan.has_errors
    text = render_text(plan)
    assert "cloudy: cannot be compiled" in text and "cannot be applied" in text
    [comment] = render_markdown(plan)
    assert "errors: cannot be applied" in comment and "#### Errors" in comment


def test_json_is_machine_readable() -> None:
    data = json.loads(render_json(make_plan()))
    assert data["format"] == "batchspec-plan"
    assert data["summary"] == {
        "cancel": 0,
        "forget": 0,
        "replace": 1,
        "resubmit": 0,
        "create": 2,
        "noop": 3,
    }
    kinds = {a["name"]: a["kind"] for a in data["actions"]}
    assert kinds["chg_0000"] == "replace" and kinds["same_0000"] == "noop"
    created = next(a for a in data["actions"] if a["name"] == "new_0000")
    assert created["job"]["body"]["metadata"]["name"] == "new_0000"
    assert next(a for a in data["actions"] if a["name"] == "same_0000")["job"] is None


@pytest.mark.parametrize("limit", [1000])
def test_markdown_refuses_absurd_limits(limit: int) -> None:
    with pytest.raises(ValueError):
        render_markdown(make_plan(), limit=limit)
