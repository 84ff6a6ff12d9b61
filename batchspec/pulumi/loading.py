"""Read a stack's specs: validate, select, compile with the stack's project and region.

The same stages as `batchspec plan` (validate_paths, compile_spec), with
the stack configuration standing in for the environment. A spec with errors
stops the program: deploying the other specs while one silently vanished
from the stack would make Pulumi delete what that spec had created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from batchspec.compile import compile_with_diagnostics
from batchspec.diagnostics import Diagnostic
from batchspec.errors import CompileError
from batchspec.model.jobs import CompiledJob
from batchspec.pulumi.layout import selected
from batchspec.pulumi.settings import StackConfigError, StackSettings


@dataclass
class LoadedJobs:
    """Compiled jobs of a stack, and the warnings met on the way."""

    jobs: list[CompiledJob] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # valid specs outside select/targets


def load_jobs(settings: StackSettings) -> LoadedJobs:
    """Every selected spec, compiled; StackConfigError listing every problem."""
    from batchspec.validate import validate_paths

    missing = [str(p) for p in settings.specs if not p.exists()]
    if missing:
        raise StackConfigError(
            f"spec path(s) not found: {', '.join(missing)}",
            hint="config batchspec:specs holds paths relative to the Pulumi project folder",
        )
    result = validate_paths([str(p) for p in settings.specs])
    errors = [d for d in result.diagnostics if d.is_error]
    out = LoadedJobs(warnings=[d for d in result.diagnostics if not d.is_error])
    for loaded in result.specs:
        target = loaded.spec.spec.target
        if not selected(loaded.name, settings.select) or (
            settings.targets and target not in settings.targets
        ):
            out.skipped.append(loaded.name)
            continue
        try:
            job, found = compile_with_diagnostics(
                loaded.spec, source=loaded.file, env=settings.compile_env
            )
        except CompileError as exc:
            errors.extend(d for d in exc.diagnostics if d.is_error)
            continue
        out.jobs.append(job)
        out.warnings.extend(found)
    if errors:
        raise StackConfigError(
            f"{len(errors)} error(s) in the stack's specs:\n"
            + "\n".join(f"  {d.location}: {d.code} {d.message}" for d in errors),
            hint="`batchspec validate` and `batchspec render` show the details; set"
            " batchspec:project / batchspec:region (or gcp:project / gcp:region) for specs"
            " that name none",
        )
    if not out.jobs:
        raise StackConfigError(
            "no spec is selected for this stack",
            hint="check batchspec:specs, batchspec:select and batchspec:targets",
        )
    return out
