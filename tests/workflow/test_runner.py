"""The local workflow runner honours what the workflow test relies on: step
order, GITHUB_OUTPUT, `if:` with status functions, continue-on-error, and it
refuses what it does not know instead of skipping it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.workflow.runner import WorkflowError, run_job


def flow(*steps: dict[str, Any], job_if: str | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {"runs-on": "ubuntu-latest", "steps": list(steps)}
    if job_if is not None:
        job["if"] = job_if
    return {"env": {"WHO": "${{ vars.WHO }}"}, "jobs": {"j": job}}


def run(workflow: dict[str, Any], tmp_path: Path, **github: Any) -> Any:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return run_job(
        workflow,
        "j",
        workdir=work,
        github={"event_name": "push", **github},
        variables={"WHO": "ci"},
        base_env={"PATH": "/usr/bin:/bin"},
        actions={},
    )


def test_outputs_conditions_and_failures(tmp_path: Path) -> None:
    result = run(
        flow(
            {"id": "a", "name": "writes", "run": 'echo "n=$WHO" >> "$GITHUB_OUTPUT"'},
            {"name": "uses output", "run": "test '${{ steps.a.outputs.n }}' = ci"},
            {"name": "fails", "run": "false", "continue-on-error": True},
            {"name": "breaks", "run": "exit 3"},
            {"name": "after", "run": "true"},
            {"name": "always", "if": "always() && steps.a.outputs.n != ''", "run": "true"},
            {"name": "on failure", "if": "${{ failure() }}", "run": "true"},
            {"name": "missing output", "if": "always() && steps.b.outputs.n != ''", "run": "true"},
        ),
        tmp_path,
    )
    outcomes = {s.name: (s.outcome, s.code) for s in result.steps}
    assert outcomes == {
        "writes": ("success", 0),
        "uses output": ("success", 0),
        "fails": ("success", 1),
        "breaks": ("failure", 3),
        "after": ("skipped", 0),
        "always": ("success", 0),
        "on failure": ("success", 0),
        "missing output": ("skipped", 0),
    }
    assert not result.ok


def test_job_condition_and_pipefail(tmp_path: Path) -> None:
    skipped = run(flow({"run": "true"}, job_if="github.event_name == 'pull_request'"), tmp_path)
    assert [s.outcome for s in skipped.steps] == ["skipped"]
    piped = run(flow({"name": "pipe", "run": "false | true"}), tmp_path)
    assert piped.step("pipe").outcome == "failure"  # bash -eo pipefail, as on a runner


def test_unknown_actions_contexts_and_functions_fail(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match="actions/cache"):
        run(flow({"uses": "actions/cache@v4"}), tmp_path)
    with pytest.raises(WorkflowError, match="matrix"):
        run(flow({"run": "echo ${{ matrix.os }}"}), tmp_path)
    with pytest.raises(WorkflowError, match="function"):
        run(flow({"if": "contains(github.ref, 'main')", "run": "true"}), tmp_path)
