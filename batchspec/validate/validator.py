"""The validate stage: documents in, typed specs and located diagnostics out.

Files stream through one at a time: read, fast parse, structure (pydantic,
or, for a diagnostics-only run, a view where the document is surely
valid: `batchspec.validate.fastlane`), rules, and, only for a file with
diagnostics, positions (line:column); then
its text is dropped, so memory holds diagnostics and job names, not the
tree. Large trees are split into chunks of files checked in worker
processes (`batchspec.validate.parallel`), results merged in file order.
Cross-file rules (unique job and model names, references to Model
documents) run on the merged names (`batchspec.validate.modelrefs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchspec.diagnostics import Diagnostic, has_errors, sort_key
from batchspec.load.positions import PositionIndex
from batchspec.load.source import Document, LoadResult, parse_documents, read_text
from batchspec.validate import fastlane
from batchspec.validate.loaded import Loaded, LoadedModel, LoadedSpec
from batchspec.validate.modeldocs import check_model_rules
from batchspec.validate.modelrefs import Declared, Use, check_model_refs, declared_in
from batchspec.validate.references import check_references
from batchspec.validate.rules import check_all

if TYPE_CHECKING:  # pydantic, imported only where a document needs it (start-up)
    from batchspec.model.documents import SpecDocument


class ValidationResult:
    """Valid specs (jobs) and models plus every diagnostic (warnings
    included), sorted.

    `specs` and `models` stay empty when the caller asked for diagnostics
    only (`keep_specs=False`); `valid` counts valid documents either way.
    A plain class, as `FileReport`: see there."""

    def __init__(
        self,
        specs: list[LoadedSpec] | None = None,
        models: list[LoadedModel] | None = None,
        diagnostics: list[Diagnostic] | None = None,
        files: int = 0,
        valid: int = 0,
    ) -> None:
        self.specs: list[LoadedSpec] = [] if specs is None else specs
        self.models: list[LoadedModel] = [] if models is None else models
        self.diagnostics: list[Diagnostic] = [] if diagnostics is None else diagnostics
        self.files = files
        self.valid = valid

    @property
    def ok(self) -> bool:
        """True when nothing is an error."""
        return not has_errors(self.diagnostics)


class FileReport:
    """What checking one file found: located diagnostics and its valid specs
    (as names always; as typed specs when they are kept).

    An accumulator, so a plain class rather than a dataclass: creating a
    dataclass compiles its generated methods, which `validate`'s start-up
    paid for each of twenty (`batchspec.diagnostics.Diagnostic` says more)."""

    __slots__ = (
        "declared",
        "diagnostics",
        "file",
        "keep",
        "models",
        "names",
        "read",
        "specs",
        "uses",
    )

    def __init__(  # noqa: PLR0917 - positional, as `__reduce__` gives them
        self,
        file: str,
        read: bool,
        diagnostics: list[Diagnostic],
        names: list[tuple[str, int]] | None = None,
        specs: list[LoadedSpec] | None = None,
        models: list[LoadedModel] | None = None,
        declared: list[Declared] | None = None,  # Model documents, valid or not
        uses: list[Use] | None = None,  # jobs' `model: {ref: ...}`
        keep: bool = True,  # build LoadedSpec/LoadedModel (a diagnostics-only run needs none)
    ) -> None:
        self.file = file
        self.read = read
        self.diagnostics = diagnostics
        self.names: list[tuple[str, int]] = [] if names is None else names
        self.specs: list[LoadedSpec] = [] if specs is None else specs
        self.models: list[LoadedModel] = [] if models is None else models
        self.declared: list[Declared] = [] if declared is None else declared
        self.uses: list[Use] = [] if uses is None else uses
        self.keep = keep

    def __reduce__(self) -> tuple[type[FileReport], tuple[Any, ...]]:
        """Pickled as its fields in order (reports come back from worker
        processes): no dict of field names per report."""
        return FileReport, (
            self.file,
            self.read,
            self.diagnostics,
            self.names,
            self.specs,
            self.models,
            self.declared,
            self.uses,
            self.keep,
        )

    def add(self, doc: Document, found: SpecDocument | None, diagnostics: list[Diagnostic]) -> None:
        """One checked document: its diagnostics, and what the merge needs of it."""
        self.diagnostics.extend(diagnostics)
        self.declared.extend(declared_in(doc.data, self.file, doc.index, found is not None))
        if found is not None and found.kind == "Model":  # a view is no ModelDocument instance
            if self.keep:
                self.models.append(
                    LoadedModel(found, Path(self.file), doc.index, tuple(diagnostics))
                )
        elif found is not None:
            self.names.append((found.metadata.name, doc.index))
            if self.keep:
                self.specs.append(LoadedSpec(found, Path(self.file), doc.index, tuple(diagnostics)))
            ref = found.spec.model.ref
            if ref is not None:
                spec = found.spec
                self.uses.append(
                    Use(
                        found.name,
                        ref,
                        file=self.file,
                        document=doc.index,
                        project=spec.project,
                        region=spec.region,
                    )
                )


def check_file(path: Path | str, *, keep_specs: bool) -> FileReport:
    """Read, parse, validate and locate one file."""
    name = str(path)
    text, problems = read_text(name)
    if text is None:
        return FileReport(name, False, problems)
    docs, found = parse_documents(name, text)
    report = FileReport(name, True, problems + found, keep=keep_specs)
    for doc in docs:
        report.add(doc, *validate_document(doc, typed=keep_specs))
    if report.diagnostics:
        report.diagnostics = _locate(report.diagnostics, {name: text})
    return report


def merge(reports: Iterable[FileReport], problems: list[Diagnostic]) -> ValidationResult:
    """File reports, in file order, into one result; job names unique across
    all of them (the first spec keeps its name, later ones get BS203)."""
    result = ValidationResult(diagnostics=list(problems))
    first: dict[str, tuple[str, int]] = {}
    late: list[Diagnostic] = []
    jobs: list[tuple[str, int, LoadedSpec | None]] = []
    declared: list[Declared] = []
    uses: list[Use] = []
    models: dict[tuple[str, int], LoadedModel] = {}
    for report in reports:  # most reports: one name and nothing else (a clean spec)
        file = report.file
        result.files += report.read
        if report.diagnostics:
            result.diagnostics.extend(report.diagnostics)
        if report.declared or report.uses or report.models:
            declared.extend(report.declared)
            uses.extend(report.uses)
            models.update({(file, m.document): m for m in report.models})
        kept = {spec.document: spec for spec in report.specs} if report.specs else {}
        for name, document in report.names:
            place = (file, document)
            seen = first.setdefault(name, place)
            if seen != place:  # (not `is`: compiled, a tuple is boxed anew where it is stored)
                late.append(_duplicate(name, file, document, seen))
                continue
            jobs.append((file, document, kept.get(document)))
    refs = check_model_refs(declared, uses)
    late.extend(refs.diagnostics)
    for file, document, spec in jobs:
        if (file, document) in refs.blocked:
            continue
        result.valid += 1
        if spec is not None:
            result.specs.append(spec)
    for model in declared:
        if model.valid and model.place not in refs.blocked:
            result.valid += 1
            if model.place in models:
                result.models.append(models[model.place])
    result.diagnostics.extend(_locate_in_files(late))
    result.diagnostics.sort(key=sort_key)
    return result


def validate_loaded(loaded: LoadResult) -> ValidationResult:
    """Validate documents already loaded; locate every diagnostic."""
    by_file: dict[str, FileReport] = {name: FileReport(name, True, []) for name in loaded.texts}
    for doc in loaded.documents:
        report = by_file.setdefault(doc.file, FileReport(doc.file, True, []))
        report.add(doc, *validate_document(doc))
    for report in by_file.values():
        report.diagnostics = _locate(report.diagnostics, loaded.texts)
    return merge(by_file.values(), loaded.diagnostics)


def validate_document(
    doc: Document, *, typed: bool = True
) -> tuple[SpecDocument | None, list[Diagnostic]]:
    """Structure, then rules, for one document of either kind (locations not
    filled in yet). `typed=False` may answer with a view instead of the
    pydantic model (`batchspec.validate.fastlane`): for a caller that reads
    only names.

    When the structure is wrong, the offending values are pruned and the rest is
    checked again, so the rules still run and the user sees every problem at
    once instead of one round of fixes per kind of mistake.
    """
    spec = None if typed else fastlane.fast_view(doc.data)
    if spec is not None:
        problems = rules_of(spec)
    else:
        spec, problems = _check_structure(doc.data)
        if spec is not None:
            problems = rules_of(spec)
        else:
            problems.extend(_rules_after_pruning(doc.data, problems))
    if _may_reference(doc):
        problems.extend(check_references(doc.data))
    return spec if not has_errors(problems) else None, [
        p.at(file=doc.file, document=doc.index) for p in problems
    ]


def _may_reference(doc: Document) -> bool:
    """Whether a `${env:` reference can be in the document: not when the text
    it was read from (known for documents read from files) holds none and no
    escape could spell one; most specs hold none, and the text is one scan
    where the data is a walk."""
    return not doc.text or "${env:" in doc.text or "\\" in doc.text


def _rules_after_pruning(data: Any, problems: list[Diagnostic]) -> list[Diagnostic]:
    import copy  # only for a broken document: not at start-up

    pruned = copy.deepcopy(data)
    for d in problems:
        if d.code in ("BS101", "BS103", "BS104", "BS105") and d.path:
            _delete(pruned, d.path)
    spec, _ = _check_structure(pruned)
    if spec is None:
        return []
    seen = {(d.code, d.path) for d in problems}
    return [d for d in rules_of(spec) if (d.code, d.path) not in seen]


def _check_structure(data: Any) -> tuple[SpecDocument | None, list[Diagnostic]]:
    from batchspec.validate.structure import check_structure  # pydantic: not at start-up

    return check_structure(data)


def rules_of(doc: SpecDocument) -> list[Diagnostic]:
    """The single-document rules of a document's kind."""
    if doc.kind == "Model":  # by kind: the fast lane's views are no model instances
        return check_model_rules(doc)
    return check_all(doc)  # check_rules then check_target_rules, in one pass


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


def locate(diagnostics: Iterable[Diagnostic], loaded: Loaded) -> list[Diagnostic]:
    """File, document, line and column for diagnostics about one loaded spec
    (those of later stages, such as compile, which know only document paths)."""
    placed = [d.at(file=str(loaded.file), document=loaded.document) for d in diagnostics]
    if not any(d.path and d.line is None for d in placed):
        return placed
    text = Path(loaded.file).read_text(encoding="utf-8")
    return _locate(placed, {str(loaded.file): text})


def _duplicate(name: str, file: str, document: int, seen: tuple[str, int]) -> Diagnostic:
    return Diagnostic(
        "BS203",
        f"job name {name!r} is already used by {seen[0]} (document {seen[1] + 1})",
        file=file,
        document=document,
        path=("metadata", "name"),
        hint="job names are unique among all jobs ever created in the project",
    )


def _locate_in_files(diagnostics: list[Diagnostic]) -> Iterator[Diagnostic]:
    """Locate diagnostics found after their file's text was dropped (rare:
    duplicate names), reading each file once more."""
    by_file: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        by_file.setdefault(d.file or "", []).append(d)
    for file, items in by_file.items():
        text, _ = read_text(Path(file))
        yield from _locate(items, {file: text} if text is not None else {})


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
