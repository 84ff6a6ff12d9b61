"""Read a stack's specs: validate, select, compile with the stack's project and region.

The same front door as `batchspec plan` (`compile_paths`), with the stack
configuration standing in for the environment. A spec with errors
stops the program: deploying the other specs while one silently vanished
from the stack would make Pulumi delete what that spec had created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from batchspec.compile import compile_paths
from batchspec.diagnostics import Diagnostic
from batchspec.model.enums import Severity
from batchspec.model.jobs import CompiledJob, CompiledModel
from batchspec.pulumi.settings import StackConfigError, StackSettings


@dataclass
class LoadedJobs:
    """Compiled jobs of a stack, and the warnings met on the way."""

    jobs: list[CompiledJob] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # valid specs outside select/targets


def _models_not_uploaded(
    jobs: list[CompiledJob], models: dict[str, CompiledModel]
) -> list[Diagnostic]:
    """BS409: a job whose request names a Model document's revision; the
    program creates no model, so `batchspec apply` must upload it first, or
    the service refuses the job."""
    out = []
    for job in jobs:
        model = models.get(job.model_ref) if job.model_ref else None
        if model is not None:
            out.append(
                Diagnostic(
                    "BS409",
                    f"job {job.name} runs model {model.name} ({model.version}), which this"
                    " Pulumi program does not upload",
                    severity=Severity.WARNING,
                    file=str(job.source) if job.source else None,
                    hint="run `batchspec apply` on the Model document first (it uploads the"
                    " revision exactly once), or name the model by `resource`",
                )
            )
    return out


def load_jobs(settings: StackSettings) -> LoadedJobs:
    """Every selected spec, compiled; StackConfigError listing every problem."""
    missing = [str(p) for p in settings.specs if not p.exists()]
    if missing:
        raise StackConfigError(
            f"spec path(s) not found: {', '.join(missing)}",
            hint="config batchspec:specs holds paths relative to the Pulumi project folder",
        )
    compiled = compile_paths(
        settings.specs, select=settings.select, targets=settings.targets, env=settings.compile_env
    )
    errors = [d for d in compiled.diagnostics if d.is_error]
    if errors:
        raise StackConfigError(
            f"{len(errors)} error(s) in the stack's specs:\n"
            + "\n".join(f"  {d.location}: {d.code} {d.message}" for d in errors),
            hint="`batchspec validate` and `batchspec render` show the details; set"
            " batchspec:project / batchspec:region (or gcp:project / gcp:region) for specs"
            " that name none",
        )
    if not compiled.jobs:
        raise StackConfigError(
            "no spec is selected for this stack",
            hint="check batchspec:specs, batchspec:select and batchspec:targets",
        )
    return LoadedJobs(
        jobs=compiled.jobs,
        warnings=[d for d in compiled.diagnostics if not d.is_error]
        + _models_not_uploaded(compiled.jobs, compiled.models_by_name()),
        skipped=[s.name for s in compiled.skipped],
    )
