"""The BatchPredictionJob resource's properties, and the spec they point at.

What goes into Pulumi state is deliberately small and secret-free: where
the spec is (file and name), the revision's fingerprint, where the run is
recorded (state file, local home, project, region) and a redacted summary
of the request for people reading `pulumi preview --diff`. The request body
itself is never stored: the provider compiles it again from the spec file
when it submits, and refuses if the fingerprint no longer matches what the
program computed (the file changed between preview and up).

No pulumi import here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchspec.compile import compile_paths
from batchspec.diagnostics import Diagnostic
from batchspec.model.camel import camel_fields
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob
from batchspec.pulumi.layout import JobLayout
from batchspec.pulumi.runs import RunError, RunView, Where
from batchspec.pulumi.settings import StackSettings
from batchspec.state.redact import redact

FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")

# Inputs whose change means a new job (jobs are immutable). The fingerprint
# covers the request body; project and region say where it runs, which the
# body of a Vertex request does not carry.
REPLACING = ("fingerprint", "target", "name", "project", "region")
# Inputs that only say where the run is recorded or found.
OPERATIONAL = ("specFile", "statePath", "home", "lockTimeout")
INFORMATIONAL = ("labels", "request", "outputPath", "stack")
INPUT_KEYS = REPLACING + OPERATIONAL + INFORMATIONAL
OUTPUT_KEYS = (
    "jobName",
    "state",
    "outputDirectory",
    "backend",
    "recordId",
    "attempt",
    "submitKey",
    "completedCount",
    "failedCount",
    "totalCount",
    "error",
    "adopted",
    "deletedOutside",
)


@dataclass(frozen=True)
class JobProps:
    """The inputs of one BatchPredictionJob resource."""

    name: str
    target: str
    fingerprint: str
    spec_file: str
    state_path: str
    project: str | None = None
    region: str | None = None
    home: str | None = None
    lock_timeout: float = 300.0
    labels: Mapping[str, str] | None = None
    request: Mapping[str, Any] | None = None
    output_path: str | None = None
    stack: str | None = None

    def to_inputs(self) -> dict[str, Any]:
        """The resource inputs (camelCase, like every Pulumi property)."""
        names = "name target fingerprint spec_file state_path project region home lock_timeout"
        return {
            **camel_fields(self, names),
            "labels": dict(self.labels or {}),
            "request": dict(self.request or {}),
            **camel_fields(self, "output_path stack"),
        }

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any]) -> JobProps:
        """Read inputs back (RunError naming the first bad property)."""
        problems = check_inputs(inputs)
        if problems:
            key, reason = problems[0]
            raise RunError(f"property {key}: {reason}")
        return cls(
            name=inputs["name"],
            target=inputs["target"],
            fingerprint=inputs["fingerprint"],
            spec_file=inputs["specFile"],
            state_path=inputs["statePath"],
            project=inputs.get("project") or None,
            region=inputs.get("region") or None,
            home=inputs.get("home") or None,
            lock_timeout=float(inputs.get("lockTimeout") or 300.0),
            labels=inputs.get("labels") or {},
            request=inputs.get("request") or {},
            output_path=inputs.get("outputPath") or None,
            stack=inputs.get("stack") or None,
        )

    @property
    def where(self) -> Where:
        """Where the run is recorded and executed."""
        return Where(
            state_path=Path(self.state_path),
            home=Path(self.home) if self.home else None,
            project=self.project,
            region=self.region,
            lock_timeout=self.lock_timeout,
        )

    @property
    def compile_env(self) -> dict[str, str]:
        """Project and region as the program compiled with them."""
        env = {}
        if self.project:
            env["BATCHSPEC_PROJECT"] = self.project
        if self.region:
            env["BATCHSPEC_REGION"] = self.region
        return env


def props_for(layout: JobLayout, settings: StackSettings) -> JobProps:
    """The resource inputs the stack gives one job (absolute paths throughout)."""
    job = layout.job
    local = job.target in (Target.LOCAL, Target.RAY)
    return JobProps(
        name=job.name,
        target=job.target.value,
        fingerprint=job.fingerprint,
        spec_file=str(job.source.resolve()) if job.source else "",
        state_path=str(settings.state_path),
        project=layout.project,
        region=layout.region,
        home=str(settings.home) if local else None,
        lock_timeout=settings.lock_timeout,
        labels=dict(job.labels),
        request=request_summary(job),
        output_path=layout.output_path,
        stack=settings.name_prefix,
    )


def check_inputs(inputs: Mapping[str, Any], *, unknown: object = None) -> list[tuple[str, str]]:
    """(property, reason) for every input that is missing or malformed.

    Values equal to `unknown` (Pulumi's placeholder for a value not known
    until apply time) are not judged."""
    pending = {k for k, v in inputs.items() if unknown is not None and v == unknown}
    problems: list[tuple[str, str]] = []
    for key in ("name", "target", "fingerprint", "specFile", "statePath"):
        value = inputs.get(key)
        if not isinstance(value, str) or not value:
            problems.append((key, "required, a non-empty string"))
    target = inputs.get("target")
    if isinstance(target, str) and target not in {t.value for t in Target}:
        problems.append(("target", f"unknown target {target!r}"))
    fp = inputs.get("fingerprint")
    if isinstance(fp, str) and fp and not FINGERPRINT.match(fp):
        problems.append(("fingerprint", "must be the 64 hex digits of a revision"))
    for key in ("specFile", "statePath", "home"):
        value = inputs.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            problems.append((key, f"must be an absolute path, not {value!r}"))
    timeout = inputs.get("lockTimeout")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0):
        problems.append(("lockTimeout", "must be a number of seconds, 0 or more"))
    for key in ("labels", "request"):
        value = inputs.get(key)
        if value is not None and not isinstance(value, Mapping):
            problems.append((key, "must be a map"))
        elif isinstance(value, Mapping) and redact(dict(value)) != dict(value):
            problems.append((key, "holds a secret-looking key; secrets never go into Pulumi state"))
    return [(key, reason) for key, reason in problems if key not in pending]


def request_summary(job: CompiledJob) -> dict[str, Any]:
    """What a reviewer needs to see in a diff: model, input, output, resources.

    Built from the spec, not the body, and redacted; runner commands and
    environments (where a pasted token would live) are left out entirely.
    """
    spec = job.effective
    model = spec.model.model_dump(mode="json", by_alias=True, exclude_none=True)
    local = model.get("local")
    if isinstance(local, dict):
        model["local"] = {k: v for k, v in local.items() if k not in ("command", "env", "initArgs")}
    summary: dict[str, Any] = {
        "model": model,
        "input": spec.input.model_dump(mode="json", by_alias=True, exclude_none=True),
        "output": spec.output.model_dump(mode="json", by_alias=True, exclude_none=True),
        "resources": spec.resources.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
    if spec.service_account:
        summary["serviceAccount"] = spec.service_account
    redacted: dict[str, Any] = redact(summary)
    return redacted


def load_job(props: JobProps) -> CompiledJob:
    """Compile the spec the props point at, exactly as the program did.

    RunError when the file is gone, no longer valid, no longer holds the
    spec, or compiles to another revision than the one Pulumi planned.
    """
    path = Path(props.spec_file)
    if not path.is_file():
        raise RunError(
            f"spec file {path} of {props.name} is missing",
            hint="run `pulumi up` from the project whose program read it",
        )
    compiled = compile_paths(
        [path], select=[props.name], target=Target(props.target), env=props.compile_env
    )
    if compiled.failures:
        failure = compiled.failures[0]
        raise RunError(
            f"spec {props.name} does not compile for {props.target}: "
            + (_first(list(failure.diagnostics)) or failure.error.message),
            hint="`batchspec render` shows every problem",
        )
    if not compiled.jobs:
        errors = [d for d in compiled.validation.diagnostics if d.is_error]
        detail = _first(errors) or f"{path} no longer declares {props.name}"
        raise RunError(f"spec {props.name}: {detail}", hint="fix the spec, then preview again")
    job = compiled.jobs[0]
    if job.fingerprint != props.fingerprint:
        raise RunError(
            f"spec {props.name} changed since the program read it (revision"
            f" {job.short_fingerprint}, planned {props.fingerprint[:12]})",
            hint="run `pulumi preview` / `pulumi up` again so the plan shows the new revision",
        )
    return job


def _first(diagnostics: list[Diagnostic]) -> str | None:
    if not diagnostics:
        return None
    d = diagnostics[0]
    more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
    return f"{d.location}: {d.code} {d.message}{more}"


def outputs(props: JobProps, view: RunView) -> dict[str, Any]:
    """The resource's outputs: its inputs plus the run as recorded and observed."""
    record = view.record
    remote = view.remote
    return {
        **props.to_inputs(),
        "jobName": view.remote_name,
        "state": view.state,
        "outputDirectory": view.output_location,
        "backend": view.backend,
        "recordId": record.id if record else None,
        "attempt": record.attempt if record else None,
        "submitKey": record.submit_key if record else None,
        "completedCount": remote.completed_count
        if remote
        else (record.completed_count if record else 0),
        "failedCount": remote.failed_count if remote else (record.failed_count if record else 0),
        "totalCount": remote.total_count if remote else (record.total_count if record else None),
        "error": (remote.error if remote else None) or (record.error if record else None),
        "adopted": view.action == "adopted",
        "deletedOutside": view.missing,
    }
