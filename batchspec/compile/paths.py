"""The front door: spec paths in, compiled jobs and every diagnostic out.

    compile_paths(paths, select=..., targets=..., target=..., env=...)
        = validate -> select -> compile -> collect

Every caller that turns spec files into jobs comes through here: `batchspec
plan` (and apply, reconcile, drift through it), `run`, `render`, the Pulumi
program and its provider, and the library API (`batchspec.compile`); a web
view or a scheduler that already holds a `ValidationResult` passes it
instead of paths. Model documents (`kind: Model`) come through here too:
they compile first (parents before the models that go under them) into
`models`, beside `jobs`, and a job's `model: {ref: NAME}` is then resolved
against them (`batchspec.compile.model`). So they
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
from dataclasses import dataclass, field, replace
from pathlib import Path

from batchspec.compile.build import compile_with_diagnostics
from batchspec.compile.model import compile_model, resolve_ref
from batchspec.diagnostics import Diagnostic, has_errors
from batchspec.errors import BatchspecError, CompileError
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob, CompiledModel
from batchspec.model.modelspec import ModelDocument
from batchspec.validate import (
    Loaded,
    LoadedModel,
    LoadedSpec,
    ValidationResult,
    locate,
    validate_paths,
)

UPLOADED_BY = (Target.VERTEX, Target.GENAI)
"""Targets whose jobs run an uploaded model version (the others run its container)."""

TargetChoice = Target | str | Callable[[LoadedSpec], Target] | None
"""Compile for this target, or for what the function picks per spec; None:
each spec's own target."""


@dataclass(frozen=True)
class Failure:
    """A valid spec (or Model document) that does not compile for the target
    asked of it."""

    loaded: Loaded
    target: Target
    error: CompileError
    diagnostics: tuple[Diagnostic, ...] = ()  # located in the spec's file

    @property
    def name(self) -> str:
        """The job (or model) name."""
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
    models: list[CompiledModel] = field(default_factory=list)  # parents first

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

    def models_by_name(self) -> dict[str, CompiledModel]:
        """The compiled models by name, parents first."""
        return {model.name: model for model in self.models}


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
    chosen: list[tuple[LoadedSpec, Target | None]] = []
    for loaded in result.specs:
        own = loaded.spec.spec.target
        if not selected(loaded.name, select) or (wanted and own.value not in wanted):
            out.skipped.append(loaded)
            continue
        pick = target(loaded) if callable(target) else target
        chosen.append((loaded, _target(pick) if pick else None))
    needed = _needed_models(result.models, chosen, select, wanted)
    compiled = _compile_models(out, result.models, needed, env, conformance)
    documents = {m.name: (m.spec, m.file) for m in result.models}
    for loaded, goal in chosen:
        _compile_one(
            out,
            loaded,
            goal,
            env=env,
            conformance=conformance,
            models=compiled,
            documents=documents,
        )
    return out


def _needed_models(
    models: list[LoadedModel],
    chosen: list[tuple[LoadedSpec, Target | None]],
    select: Sequence[str],
    wanted: set[str],
) -> set[str]:
    """Model documents to compile: the selected ones (a model's own target is
    vertex) and every one a selected job runs as an uploaded version, with
    the parents they go under."""
    names = {
        m.name
        for m in models
        if selected(m.name, select) and (not wanted or Target.VERTEX.value in wanted)
    }
    for loaded, goal in chosen:
        ref = loaded.spec.spec.model.ref
        if ref is not None and (goal or loaded.spec.spec.target) in UPLOADED_BY:
            names.add(ref)
    parents = {m.name: m.spec.spec.parent_model for m in models}
    todo = list(names)
    while todo:
        link = parents.get(todo.pop())
        if link is not None and link.ref is not None and link.ref not in names:
            names.add(link.ref)
            todo.append(link.ref)
    return names


def _compile_models(
    out: Compiled,
    models: list[LoadedModel],
    needed: set[str],
    env: Mapping[str, str] | None,
    conformance: bool,
) -> dict[str, CompiledModel]:
    """Compile the needed models, each after the parent it goes under."""
    by_name = {m.name: m for m in models if m.name in needed}
    done: dict[str, CompiledModel] = {}
    failed: set[str] = set()

    def visit(loaded: LoadedModel) -> None:
        if loaded.name in done or loaded.name in failed:
            return
        link = loaded.spec.spec.parent_model
        if link is not None and link.ref in by_name:
            visit(by_name[link.ref])  # validated: references make no circle
        try:
            model = compile_model(loaded.spec, parents=done, source=loaded.file, env=env)
        except CompileError as exc:
            found = locate(exc.diagnostics, loaded)
            out.failures.append(Failure(loaded, Target.VERTEX, exc, tuple(found)))
            out.diagnostics.extend(found)
            failed.add(loaded.name)
            return
        if conformance:
            from batchspec.compile.conformance import model_conformance_diagnostics

            out.diagnostics.extend(locate(model_conformance_diagnostics(model), loaded))
        done[loaded.name] = model
        out.models.append(model)

    for loaded in by_name.values():
        visit(loaded)
    return done


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
    *,
    env: Mapping[str, str] | None,
    conformance: bool,
    models: Mapping[str, CompiledModel],
    documents: Mapping[str, tuple[ModelDocument, Path]],
) -> None:
    goal = target or loaded.spec.spec.target
    try:
        doc = resolve_ref(
            loaded.spec, goal, compiled=models, documents=documents, job_source=loaded.file
        )
        job, warnings = compile_with_diagnostics(
            doc,
            target=target,
            source=loaded.file,
            env=env,
            written=loaded.rules if doc is loaded.spec else None,
        )
    except CompileError as exc:
        found = locate(exc.diagnostics, loaded)
        out.failures.append(Failure(loaded, goal, exc, tuple(found)))
        out.diagnostics.extend(found)
        return
    out.diagnostics.extend(locate(warnings, loaded))
    if conformance:
        from batchspec.compile.conformance import conformance_diagnostics

        out.diagnostics.extend(locate(conformance_diagnostics(job), loaded))
    ref = loaded.spec.spec.model.ref
    out.jobs.append(replace(job, model_ref=ref) if ref is not None else job)


def selected(name: str, patterns: Sequence[str]) -> bool:
    """True when `name` matches one of the globs (no globs: everything)."""
    return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)


def require_matches(result: ValidationResult, patterns: Sequence[str], where: str) -> None:
    """Raise when a requested name (or glob) matches no valid spec: asking for
    a job by name and getting silence would look like success."""
    known = [s.name for s in result.specs] + [m.name for m in result.models]
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
