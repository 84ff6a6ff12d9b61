"""The GitHub workflow and the pre-commit hooks call commands that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ruamel.yaml import YAML

from batchspec.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]


def commands(text: str) -> list[list[str]]:
    """Every `batchspec ...` command line in a shell script (continuations joined)."""
    text = text.replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        match = re.search(r"(?:^|\s)batchspec\s+(.*)$", line.strip())
        if match and not line.strip().startswith("#"):
            found.append(shlex.split(match.group(1)))
    return found


def test_workflow_plans_on_pull_requests_and_applies_on_main() -> None:
    flow = YAML(typ="safe").load((REPO / ".github/workflows/batchspec.yml").read_text())
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    scripts = [
        step["run"] for job in flow["jobs"].values() for step in job["steps"] if "run" in step
    ]
    lines = [c for script in scripts for c in commands(script)]
    verbs = [c[0] for c in lines]
    assert {"validate", "plan", "apply", "drift"} <= set(verbs)
    parser = build_parser()
    for argv in lines:
        parser.parse_args(argv)  # exits (SystemExit) on an unknown flag
    plan_job = flow["jobs"]["plan"]
    assert plan_job["permissions"]["pull-requests"] == "write"
    assert any("--comment-dir" in c for c in lines if c[0] == "plan")
    assert flow["jobs"]["apply"]["concurrency"]["cancel-in-progress"] is False


def test_pre_commit_hooks_offer_validate() -> None:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    ids = {h["id"]: h for h in hooks}
    assert ids["batchspec-validate"]["entry"] == "batchspec validate"
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
        build_parser().parse_args([*shlex.split(hook["entry"])[1:], *hook.get("args", [])])
