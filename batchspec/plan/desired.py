"""The desired side of a plan: specs on disk, validated and compiled.

Besides the compiled jobs it remembers what it could *not* read, because a
spec that fails to load must never look like a spec that was deleted: the
jobs of a file with errors, or of a name that failed to compile, are never
cancelled or forgotten. Removals are also limited to the paths given (a
`plan specs/one.yaml` says nothing about `specs/other.yaml`) and, with
`--select`, to the selected names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from batchspec.compile.paths import compile_paths, selected
from batchspec.diagnostics import Diagnostic, has_errors
from batchspec.model.jobs import CompiledJob, CompiledModel
from batchspec.state.records import JobRecord


@dataclass(frozen=True)
class Problem:
    """A declared job that cannot be planned (it does not compile, ...)."""

    name: str | None
    message: str
    hint: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """A JSON-ready mapping."""
        return {"name": self.name, "file": self.file, "message": self.message, "hint": self.hint}


def _resolve(path: str | Path) -> Path:
    return Path(path).resolve()


@dataclass
class Desired:
    """Compiled jobs by name plus what could not be loaded."""

    jobs: dict[str, CompiledJob] = field(default_factory=dict)
    models: dict[str, CompiledModel] = field(default_factory=dict)  # parents first
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    scope: tuple[Path, ...] = ()
    blocked_files: frozenset[Path] = frozenset()
    blocked_names: frozenset[str] = frozenset()
    select: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every spec loaded and compiled."""
        return not self.problems and not has_errors(self.diagnostics)

    def selected(self, name: str) -> bool:
        """True when `name` matches `--select` (or there is no selection)."""
        return selected(name, self.select)

    def targeted(self, target: str) -> bool:
        """True when `target` matches `--target` (or there is no target filter)."""
        return not self.targets or target in self.targets

    def may_remove(self, record: JobRecord) -> bool:
        """May a recorded job whose spec is not declared be cancelled or forgotten?"""
        return self.may_remove_spec(record.name, record.target, record.source)

    def may_remove_spec(self, name: str, target: str, source: str | None) -> bool:
        """May what state keeps of spec `name` (its job, or a recurring spec's
        schedule) go, now that the spec is not declared? Only in scope."""
        if not self.selected(name) or name in self.blocked_names:
            return False
        if not self.targeted(target):
            return False
        if source is None:
            return False
        where = _resolve(source)
        if where in self.blocked_files:
            return False
        return any(where == root or where.is_relative_to(root) for root in self.scope)


def load_desired(
    paths: Sequence[str], *, select: Sequence[str] = (), targets: Sequence[str] = ()
) -> Desired:
    """Validate and compile every spec under `paths` (keeps going past errors).

    `select` (name globs) and `targets` narrow the set: other specs are neither
    compiled nor planned, and their recorded jobs are never removed.
    """
    compiled = compile_paths(paths, select=select, targets=targets)
    problems = [
        Problem(f.name, f"does not compile: {f.error.message}", file=str(f.file))
        for f in compiled.failures
    ]
    jobs: dict[str, CompiledJob] = {}
    for name, job in compiled.by_name().items():
        unset = _unset_variables(job)
        if unset is None:
            jobs[name] = job
        else:
            problems.append(unset)
    return Desired(
        jobs=jobs,
        models=compiled.models_by_name(),
        diagnostics=compiled.diagnostics,
        problems=problems,
        scope=tuple(_resolve(p) for p in paths),
        blocked_files=frozenset(_resolve(f) for f in compiled.invalid_files),
        blocked_names=frozenset(p.name for p in problems if p.name),
        select=tuple(select),
        targets=tuple(targets),
    )


def _unset_variables(job: CompiledJob) -> Problem | None:
    """A job whose `${env:NAME}` references this process cannot resolve is not
    planned: applying it would fail at submit (or in the engine)."""
    from batchspec.secrets import missing, resolved_where_submitted

    lost = missing(resolved_where_submitted(job.target.value, job.body))
    if not lost:
        return None
    names = ", ".join(sorted({name for name, _ in lost}))
    return Problem(
        job.name,
        f"environment variable(s) not set: {names}",
        hint="the spec takes them from the environment (`${env:NAME}`); set them for"
        " plan, apply and reconcile (their values are read when the job is submitted"
        " and never stored)",
        file=str(job.source) if job.source else None,
    )


def desired_from(jobs: Iterable[CompiledJob], *, scope: Sequence[str | Path] = ()) -> Desired:
    """A desired set from already compiled jobs (saved plans, tests, benchmarks)."""
    return Desired(jobs={job.name: job for job in jobs}, scope=tuple(_resolve(p) for p in scope))
