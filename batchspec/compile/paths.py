"""The front door: spec paths in, compiled jobs and every diagnostic out.

    compile_paths(paths, select=..., targets=..., target=..., env=...)
        = validate -> select -> compile -> collect

Every caller that turns spec files into jobs comes through here: `batchspec
plan` (and apply, reconcile, drift through it), `run`, `render`, the Pulumi
program and its provider, and the library API (`batchspec.compile`); a web
view or a scheduler that already holds a `ValidationResult` passes it
instead of paths, and a new kind of document (a `kind: Model`) becomes one
more list of `Compiled` beside `jobs`, not a sixth copy of the loop. So they
agree on what a selection means, on where a compile diagnostic is located
(file:line:col, like a validation one) and on what happens to a spec that
does not compile: it becomes a `Failure`, never a missing job, because a
spec that vanished from the desired set looks like one to delete.

The rules run once per spec: the validator judges each spec as written and
its findings travel with it (`LoadedSpec.rules`), so compiling for the spec's
own target and project judges nothing again, and compiling for another
target (or with a project or region from the environment) runs the rules
once more on the effective spec only.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from batchspec.compile.build import compile_with_diagnostics
from batchspec.diagnostics import Diagnostic, has_errors
from batchspec.errors import BatchspecError, CompileError
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob
from batchspec.validate import LoadedSpec, ValidationResult, locate, validate_paths

TargetChoice = Target | str | Callable[[LoadedSpec], Target] | None
"""Compile for this target, or for what the function picks per spec; None:
each spec's own target."""


@dataclass(frozen=True)
class Failure:
    """A valid spec that does not compile for the target asked of it."""

    loaded: LoadedSpec
    target: Target
    error: CompileError
    diagnostics: tuple[Diagnostic, ...] = ()  # located in the spec's file

    @property
    def name(self) -> str:
        """The job name."""
        return self.loaded.name

    @property
    def file(self) -> Path:
        """The spec file."""
        return self.loaded.file

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics that stopped the compile."""
        return [d for d in self.diagnostics if d.is_error]


@dataclass
class Compiled:
    """What the front door found: jobs, failures, and every diagnostic.

    `diagnostics` holds the validator's (sorted) and then, spec by spec, the
    compile's: errors of failures, warnings of jobs that compiled anyway
    (settings the target ignores) and, when asked for, the conformance check
    against Google's discovery schema."""

    validation: ValidationResult
    jobs: list[CompiledJob] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    skipped: list[LoadedSpec] = field(default_factory=list)  # valid, outside the selection
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every spec validated and every selected one compiled."""
        return not self.failures and not has_errors(self.diagnostics)

    @property
    def files(self) -> int:
        """How many spec files were read."""
        return self.validation.files

    @property
    def invalid_files(self) -> frozenset[Path]:
        """Files with a validation error: none of their jobs is known."""
        return frozenset(Path(d.file) for d in self.validation.diagnostics if d.is_error and d.file)

    def by_name(self) -> dict[str, CompiledJob]:
        """The compiled jobs by job name (names are unique across specs)."""
        return {job.name: job for job in self.jobs}


def compile_paths(
    specs: Iterable[str | Path] | ValidationResult,
    *,
    select: Sequence[str] = (),
    targets: Collection[Target | str] = (),
    target: TargetChoice = None,
    env: Mapping[str, str] | None = None,
    keep_going: bool = True,
    conformance: bool = False,
) -> Compiled:
    """Validate the specs under the paths `specs` (or take a validation
    already made), then compile the selected ones.

    `select` (globs on job names) and `targets` (the specs' own targets)
    narrow the set; `target` compiles for another target than each spec's
    own; `env` stands in for the process environment for project and region.
    With `keep_going=False` nothing compiles once a spec is invalid (a
    command that prints requests prints none of a broken tree)."""
    if isinstance(specs, ValidationResult):
        result = specs
    else:
        result = validate_paths([str(p) for p in specs])
    out = Compiled(validation=result, diagnostics=list(result.diagnostics))
    if not keep_going and not result.ok:
        return out
    wanted = {str(t) for t in targets}  # a target no spec has selects nothing
    for loaded in result.specs:
        own = loaded.spec.spec.target
        if not selected(loaded.name, select) or (wanted and own.value not in wanted):
            out.skipped.append(loaded)
            continue
        chosen = target(loaded) if callable(target) else target
        _compile_one(out, loaded, _target(chosen) if chosen else None, env, conformance)
    return out


def _target(value: Target | str) -> Target:
    try:
        return Target(value)
    except ValueError:
        known = ", ".join(t.value for t in Target)
        raise BatchspecError(f"unknown target {value!r}", hint=f"one of {known}") from None


def _compile_one(
    out: Compiled,
    loaded: LoadedSpec,
    target: Target | None,
    env: Mapping[str, str] | None,
    conformance: bool,
) -> None:
    try:
        job, warnings = compile_with_diagnostics(
            loaded.spec, target=target, source=loaded.file, env=env, written=loaded.rules
        )
    except CompileError as exc:
        found = locate(exc.diagnostics, loaded)
        out.failures.append(Failure(loaded, target or loaded.spec.spec.target, exc, tuple(found)))
        out.diagnostics.extend(found)
        return
    out.diagnostics.extend(locate(warnings, loaded))
    if conformance:
        from batchspec.compile.conformance import conformance_diagnostics

        out.diagnostics.extend(locate(conformance_diagnostics(job), loaded))
    out.jobs.append(job)


def selected(name: str, patterns: Sequence[str]) -> bool:
    """True when `name` matches one of the globs (no globs: everything)."""
    return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)


def require_matches(result: ValidationResult, patterns: Sequence[str], where: str) -> None:
    """Raise when a requested name (or glob) matches no valid spec: asking for
    a job by name and getting silence would look like success."""
    known = [s.name for s in result.specs]
    for pattern in patterns:
        if any(fnmatch.fnmatchcase(name, pattern) for name in known):
            continue
        guess = difflib.get_close_matches(pattern, known, n=1)
        if guess:
            hint = f"did you mean `{guess[0]}`?"
        else:
            hint = "jobs there: " + (", ".join(known) or "none")
        raise BatchspecError(f"{where} has no job named {pattern!r}", hint=hint)


__all__ = [
    "Compiled",
    "Failure",
    "TargetChoice",
    "compile_paths",
    "require_matches",
    "selected",
]
