"""The validate stage: documents in, typed specs and located diagnostics out.

Order of work, chosen for speed on large spec trees: fast parse, structure
(pydantic), rules, cross-spec rules; only then, and only for files that have
diagnostics, the slower positional parse that turns document paths into
line:column.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchspec.diagnostics import Diagnostic, has_errors, sort_key
from batchspec.load.positions import PositionIndex
from batchspec.load.source import Document, LoadResult, load_paths
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.validate.references import check_references
from batchspec.validate.rules import check_rules
from batchspec.validate.structure import check_structure


@dataclass(frozen=True)
class LoadedSpec:
    """A valid spec and where it came from."""

    spec: BatchPredictionJobSpec
    file: Path
    document: int
    rules: tuple[Diagnostic, ...] | None = None  # the rules' findings (warnings): not asked twice

    @property
    def name(self) -> str:
        """The job name."""
        return self.spec.metadata.name


@dataclass
class ValidationResult:
    """Valid specs plus every diagnostic (warnings included), sorted."""

    specs: list[LoadedSpec] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing is an error."""
        return not has_errors(self.diagnostics)


def validate_paths(paths: Iterable[str]) -> ValidationResult:
    """Load and validate every spec file under `paths`."""
    loaded = load_paths(list(paths))
    return validate_loaded(loaded)


def validate_loaded(loaded: LoadResult) -> ValidationResult:
    """Validate documents already loaded; locate every diagnostic."""
    result = ValidationResult(diagnostics=list(loaded.diagnostics), files=len(loaded.texts))
    for doc in loaded.documents:
        spec, problems = validate_document(doc)
        result.diagnostics.extend(problems)
        if spec is not None and not has_errors(problems):
            result.specs.append(LoadedSpec(spec, Path(doc.file), doc.index, tuple(problems)))
    result.diagnostics.extend(_duplicate_names(result.specs))
    result.specs = _without_duplicates(result.specs)
    result.diagnostics = _locate(result.diagnostics, loaded.texts)
    result.diagnostics.sort(key=sort_key)
    return result


def validate_document(doc: Document) -> tuple[BatchPredictionJobSpec | None, list[Diagnostic]]:
    """Structure, then rules, for one document (locations not filled in yet).

    When the structure is wrong, the offending values are pruned and the rest is
    checked again, so the rules still run and the user sees every problem at
    once instead of one round of fixes per kind of mistake.
    """
    spec, problems = check_structure(doc.data)
    if spec is not None:
        problems = check_rules(spec)
    else:
        problems.extend(_rules_after_pruning(doc.data, problems))
    problems.extend(check_references(doc.data))
    return spec if not has_errors(problems) else None, [
        p.at(file=doc.file, document=doc.index) for p in problems
    ]


def _rules_after_pruning(data: Any, problems: list[Diagnostic]) -> list[Diagnostic]:
    pruned = copy.deepcopy(data)
    for d in problems:
        if d.code in ("BS101", "BS103", "BS104", "BS105") and d.path:
            _delete(pruned, d.path)
    spec, _ = check_structure(pruned)
    if spec is None:
        return []
    seen = {(d.code, d.path) for d in problems}
    return [d for d in check_rules(spec) if (d.code, d.path) not in seen]


def _delete(data: Any, path: tuple[str | int, ...]) -> None:
    node = data
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)
    elif isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        del node[path[-1]]


def locate(diagnostics: Iterable[Diagnostic], loaded: LoadedSpec) -> list[Diagnostic]:
    """File, document, line and column for diagnostics about one loaded spec
    (those of later stages, such as compile, which know only document paths)."""
    placed = [d.at(file=str(loaded.file), document=loaded.document) for d in diagnostics]
    if not any(d.path and d.line is None for d in placed):
        return placed
    text = Path(loaded.file).read_text(encoding="utf-8")
    return _locate(placed, {str(loaded.file): text})


def _duplicate_names(specs: list[LoadedSpec]) -> list[Diagnostic]:
    first: dict[str, LoadedSpec] = {}
    out = []
    for item in specs:
        seen = first.setdefault(item.name, item)
        if seen is item:
            continue
        out.append(
            Diagnostic(
                "BS203",
                f"job name {item.name!r} is already used by {seen.file} (document"
                f" {seen.document + 1})",
                file=str(item.file),
                document=item.document,
                path=("metadata", "name"),
                hint="job names are unique among all jobs ever created in the project",
            )
        )
    return out


def _without_duplicates(specs: list[LoadedSpec]) -> list[LoadedSpec]:
    seen: set[str] = set()
    unique = []
    for item in specs:
        if item.name not in seen:
            seen.add(item.name)
            unique.append(item)
    return unique


def _locate(diagnostics: list[Diagnostic], texts: dict[str, str]) -> list[Diagnostic]:
    indexes: dict[str, PositionIndex] = {}
    out = []
    for d in diagnostics:
        if d.line is not None or d.file not in texts or d.document is None:
            out.append(d)
            continue
        index = indexes.setdefault(d.file, PositionIndex(texts[d.file]))
        pos = index.locate(d.document, d.path, key=d.code == "BS101")
        out.append(d.at(line=pos[0], column=pos[1]) if pos else d)
    return out
