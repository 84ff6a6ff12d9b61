"""Run one job of a GitHub Actions workflow the way a runner does, locally.

Each `run:` step is written to a file and run with the runner's default
shell (`bash --noprofile --norc -eo pipefail FILE`) in the checkout, with the
workflow's, job's and step's `env:` (expressions substituted), GITHUB_OUTPUT
and GITHUB_ENV files read back after the step, `if:` conditions evaluated
(success() by default, always(), `&&`, `||`, `!`, `==`, `!=`), and
`continue-on-error` honoured. `uses:` steps are stood in for by the caller
(`actions`): a handler per action, and an action without one fails the run,
so a step the test does not know about is never skipped silently. Expressions
may only name contexts the test provides: an unknown one fails the run.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
NAME = re.compile(r"(?<![\w.'])([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+)")
CONTEXTS = {"github", "vars", "env", "steps", "secrets", "job", "runner"}

Action = Callable[[dict[str, Any], dict[str, str]], None]  # (with, env)


class WorkflowError(AssertionError):
    """The workflow used something this runner (and so the test) does not know."""


@dataclass
class StepRun:
    name: str
    outcome: str  # success | failure | skipped
    code: int = 0
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)  # what it wrote to GITHUB_OUTPUT


@dataclass
class JobRun:
    steps: list[StepRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.outcome != "failure" for s in self.steps)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.name == name)


def run_job(
    workflow: Mapping[str, Any],
    job: str,
    *,
    workdir: Path,
    github: Mapping[str, Any],
    variables: Mapping[str, str],
    base_env: Mapping[str, str],
    actions: Mapping[str, Action],
) -> JobRun:
    """Run `job` of `workflow` in `workdir`; returns every step's outcome."""
    spec = workflow["jobs"][job]
    context: dict[str, Any] = {"github": dict(github), "vars": dict(variables), "secrets": {}}
    context["steps"] = {}
    env: dict[str, str] = {}
    context["env"] = env
    for source in (workflow.get("env") or {}, spec.get("env") or {}):
        env.update({k: _text(v, context) for k, v in source.items()})
    if "if" in spec and not _condition(spec["if"], context, failed=False):
        return JobRun([StepRun(job, "skipped")])
    run = JobRun()
    failed = False
    for index, step in enumerate(spec["steps"]):
        name = step.get("name") or step.get("uses") or f"step {index}"
        if not _condition(step.get("if", "success()"), context, failed=failed):
            run.steps.append(StepRun(name, "skipped"))
            continue
        step_env = dict(env)
        step_env.update({k: _text(v, context) for k, v in (step.get("env") or {}).items()})
        if "uses" in step:
            result = _use(step, name, step_env, context, actions)
        else:
            result = _shell(step, name, step_env, context, workdir, github, base_env)
        if result.outcome == "failure" and _text(step.get("continue-on-error", False), context) in (
            "true",
            "True",
        ):
            result.outcome = "success"
        run.steps.append(result)
        failed = failed or result.outcome == "failure"
    return run


def _use(
    step: Mapping[str, Any],
    name: str,
    env: dict[str, str],
    context: dict[str, Any],
    actions: Mapping[str, Action],
) -> StepRun:
    action = step["uses"].split("@")[0]
    if action not in actions:
        raise WorkflowError(f"no stand-in for the action {step['uses']!r} (step {name!r})")
    inputs = {k: _text(v, context) for k, v in (step.get("with") or {}).items()}
    actions[action](inputs, context["env"])
    return StepRun(name, "success")


def _shell(
    step: Mapping[str, Any],
    name: str,
    env: dict[str, str],
    context: dict[str, Any],
    workdir: Path,
    github: Mapping[str, Any],
    base_env: Mapping[str, str],
) -> StepRun:
    scratch = workdir.parent / "runner"
    scratch.mkdir(exist_ok=True)
    script, outputs, exported = (scratch / f"{n}-{len(os.listdir(scratch))}" for n in "soe")
    script.write_text(_text(step["run"], context))
    outputs.write_text("")
    exported.write_text("")
    full = {**base_env, **env}
    full.update(
        GITHUB_OUTPUT=str(outputs),
        GITHUB_ENV=str(exported),
        GITHUB_REPOSITORY=str(github.get("repository", "")),
        GITHUB_EVENT_NAME=str(github.get("event_name", "")),
        CI="true",
        GITHUB_ACTIONS="true",
    )
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workdir,
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )
    written = _pairs(outputs.read_text())
    if "id" in step:
        context["steps"][step["id"]] = {"outputs": written}
    context["env"].update(_pairs(exported.read_text()))
    outcome = "success" if done.returncode == 0 else "failure"
    return StepRun(name, outcome, done.returncode, done.stdout + done.stderr, written)


def _pairs(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _lookup(dotted: str, context: Mapping[str, Any]) -> Any:
    head, *rest = dotted.split(".")
    if head not in CONTEXTS or head not in context:
        raise WorkflowError(f"the workflow reads the context {head!r}, which this test lacks")
    value: Any = context[head]
    for part in rest:
        value = value.get(part, "") if isinstance(value, Mapping) else ""
    return value


def _evaluate(expression: str, context: Mapping[str, Any], *, failed: bool) -> Any:
    """A GitHub expression, as Python: names are looked up, a missing property is ''."""
    names: dict[str, Any] = {}

    def name(match: re.Match[str]) -> str:
        key = f"_n{len(names)}"
        names[key] = _lookup(match.group(1), context)
        return key

    python = NAME.sub(name, expression)
    python = python.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)
    python = python.replace("always()", "True").replace("success()", "(not _failed)")
    python = python.replace("failure()", "_failed").replace("cancelled()", "False")
    if re.search(r"[A-Za-z_]\w*\(", python):
        raise WorkflowError(f"a function this runner does not know in {expression!r}")
    return eval(python, {"__builtins__": {}}, {**names, "_failed": failed, "true": True})


def _condition(value: Any, context: Mapping[str, Any], *, failed: bool) -> bool:
    text = str(value).strip()
    match = EXPRESSION.fullmatch(text)
    inner = match.group(1) if match else text
    result = _evaluate(inner, context, failed=failed)
    if not re.search(r"always\(\)|failure\(\)|cancelled\(\)", inner) and failed:
        return False  # a condition without a status function implies success()
    return bool(result)


def _text(value: Any, context: Mapping[str, Any]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return EXPRESSION.sub(
        lambda m: _string(_evaluate(m.group(1), context, failed=False)), str(value)
    )


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
