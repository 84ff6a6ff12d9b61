"""Rules across documents: jobs naming Model documents, models naming parents.

`model: {ref: NAME}` in a job and `parentModel: {ref: NAME}` in a model name
a `kind: Model` document by its `metadata.name`, in any file of the tree.
Checked once every file is read (like unique job names):

* BS401: model names are unique among Model documents;
* BS402: a reference names no Model document, or one with errors;
* BS403: parent references that go round in a circle;
* BS302: a job and its model, or a model and its parent, in different
  locations (a batch job's model "must share the same ancestor Location",
  aiplatform v1 `BatchPredictionJob.model`; versions live under their model).

A document these rules refuse is left out of the valid set, like a document
with a rule error of its own, and so is every job of a refused model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple, Protocol

from batchspec.diagnostics import Diagnostic, DocPath

Place = tuple[str, int]  # (file, document index)


class Written(Protocol):
    """What the rules compare of a document: where it is written, and the
    project and region it names (a reference must stay in both)."""

    @property
    def file(self) -> str: ...
    @property
    def document(self) -> int: ...
    @property
    def project(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...


class Declared(NamedTuple):
    """A Model document as written (also one with errors: a reference to it
    is then blamed on its errors, not called dangling).

    The records here are NamedTuples, not dataclasses: `validate` creates
    them at start-up (see `batchspec.diagnostics.Diagnostic`)."""

    name: str
    valid: bool
    file: str
    document: int
    project: str | None = None
    region: str | None = None
    parent: str | None = None  # parentModel.ref

    @property
    def place(self) -> Place:
        """Where it is written."""
        return (self.file, self.document)


class Use(NamedTuple):
    """A job's `model: {ref: NAME}`."""

    job: str
    ref: str
    file: str
    document: int
    project: str | None = None
    region: str | None = None

    @property
    def place(self) -> Place:
        """Where it is written."""
        return (self.file, self.document)


class RefCheck:
    """What the cross-document rules found: diagnostics (not yet located) and
    the documents they make invalid."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.blocked: set[Place] = set()

    def refuse(
        self, place: Place, code: str, message: str, path: DocPath, hint: str | None
    ) -> None:
        """One error against the document at `place`, which is no longer valid."""
        file, document = place
        self.diagnostics.append(
            Diagnostic(code, message, file=file, document=document, path=path, hint=hint)
        )
        self.blocked.add(place)


def check_model_refs(declared: Iterable[Declared], uses: Iterable[Use]) -> RefCheck:
    """Every cross-document problem of the Model documents and their users."""
    out = RefCheck()
    models: dict[str, Declared] = {}
    for model in declared:
        first = models.setdefault(model.name, model)
        if first is not model:
            out.refuse(
                model.place,
                "BS401",
                f"model name {model.name!r} is already used by {first.file} (document"
                f" {first.document + 1})",
                ("metadata", "name"),
                "model names are unique among Model documents",
            )
    _parents(models, out)
    for use in uses:
        _use(use, models, out)
    return out


def _usable(name: str, models: dict[str, Declared], out: RefCheck) -> Declared | None:
    model = models.get(name)
    if model is None or not model.valid or model.place in out.blocked:
        return None
    return model


def _dangling(name: str, models: dict[str, Declared]) -> tuple[str, str | None]:
    model = models.get(name)
    if model is not None:
        return (
            f"model {name!r} ({model.file}, document {model.document + 1}) has errors",
            "fix the Model document first",
        )
    import difflib  # only for an unknown model: not at start-up

    guess = difflib.get_close_matches(name, list(models), n=1)
    if guess:
        return f"no Model document is named {name!r}", f"did you mean `{guess[0]}`?"
    known = ", ".join(sorted(models)) or "none"
    return f"no Model document is named {name!r}", f"Model documents: {known}"


def _parents(models: dict[str, Declared], out: RefCheck) -> None:
    path: DocPath = ("spec", "parentModel", "ref")
    for model in models.values():
        if model.parent is None:
            continue
        cycle = _cycle(model, models)
        if cycle:
            out.refuse(
                model.place,
                "BS403",
                "parentModel references go round in a circle: " + " -> ".join(cycle),
                path,
                "a version goes under a model that does not, in turn, go under it",
            )
    for model in models.values():
        if model.parent is None or model.place in out.blocked:
            continue
        if model.parent not in models or not models[model.parent].valid:
            message, hint = _dangling(model.parent, models)
            out.refuse(model.place, "BS402", message, path, hint)
            continue
        parent = models[model.parent]
        problem = _apart(model, parent)
        if problem:
            out.refuse(
                model.place,
                "BS302",
                f"model {model.name!r} is in {problem[0]}, its parent {parent.name!r} in"
                f" {problem[1]}",
                ("spec", "region"),
                "versions live under their model: put both in one project and region",
            )
    changed = True
    while changed:  # a model whose parent was refused is refused too
        changed = False
        for model in models.values():
            if model.parent is None or model.place in out.blocked or not model.valid:
                continue
            if _usable(model.parent, models, out) is None:
                message, hint = _dangling(model.parent, models)
                out.refuse(model.place, "BS402", message, path, hint)
                changed = True


def _cycle(start: Declared, models: dict[str, Declared]) -> list[str]:
    seen = [start.name]
    current = start
    while current.parent is not None and current.parent in models:
        if current.parent == start.name:
            return [*seen, start.name]
        if current.parent in seen:
            return []  # a circle that does not pass through `start`
        seen.append(current.parent)
        current = models[current.parent]
    return []


def _use(use: Use, models: dict[str, Declared], out: RefCheck) -> None:
    model = _usable(use.ref, models, out)
    if model is None:
        message, hint = _dangling(use.ref, models)
        out.refuse(use.place, "BS402", message, ("spec", "model", "ref"), hint)
        return
    problem = _apart(use, model)
    if problem:
        out.refuse(
            use.place,
            "BS302",
            f"model {use.ref!r} lives in {problem[1]}, the job runs in {problem[0]}",
            ("spec", "model", "ref"),
            "a batch job uses a model in its own project and region: move one of them",
        )


def _apart(one: Written, other: Written) -> tuple[str, str] | None:
    """How the projects or regions of two documents differ, when both are
    written and they do."""
    if one.project and other.project and one.project != other.project:
        return f"project {one.project}", f"project {other.project}"
    if one.region and other.region and one.region != other.region:
        return one.region, other.region
    return None


def declared_in(data: object, file: str, document: int, valid: bool) -> Iterator[Declared]:
    """The Model document in raw document `data`, when it is one with a name."""
    if not isinstance(data, dict) or data.get("kind") != "Model":
        return
    meta, spec = data.get("metadata"), data.get("spec")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str):
        return
    spec = spec if isinstance(spec, dict) else {}
    parent = spec.get("parentModel")
    ref = parent.get("ref") if isinstance(parent, dict) else None
    yield Declared(
        name,
        valid,
        file=file,
        document=document,
        project=_text(spec.get("project")),
        region=_text(spec.get("region")),
        parent=_text(ref),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["Declared", "RefCheck", "Use", "Written", "check_model_refs", "declared_in"]
