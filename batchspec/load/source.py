"""Read spec files into plain Python documents, safely and fast.

Before any parser runs, `batchspec.load.guard` limits the nesting depth (the
C parsers crash on deep nesting). Then yaml-rs parses where it agrees with
ruamel.yaml, the reference (`batchspec.load.fastyaml`), and ruamel.yaml
everywhere else. Positions cost more, so they are looked up only for files
that have a problem (`batchspec.load.positions`). Whatever the input, this
module returns documents or diagnostics; it never raises on bad content and
never constructs arbitrary objects (tags are refused).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from batchspec.diagnostics import Diagnostic
from batchspec.load import fastyaml, guard
from batchspec.load.reference import parse_reference

MAX_FILE_BYTES = 1 << 20  # specs are small; a bigger file is a mistake
_READ_CHUNK = 1 << 16
MAX_NODES = 100_000  # after alias expansion; stops "billion laughs"
SPEC_SUFFIXES = (".yaml", ".yml")


class Document:
    """One YAML document of one file, as plain data.

    A plain class, not a dataclass: `validate`'s start-up creates no
    dataclass (see `batchspec.diagnostics.Diagnostic`), and a NamedTuple's
    `index` would hide `tuple.index`."""

    __slots__ = ("data", "file", "index", "text")

    def __init__(self, file: str, index: int, data: Any, text: str) -> None:
        self.file = file
        self.index = index
        self.data = data
        self.text = text

    def __repr__(self) -> str:
        return f"Document(file={self.file!r}, index={self.index})"


class LoadResult(NamedTuple):
    """Documents read and problems found, for one or many files (the lists
    and the dict grow as files are read)."""

    documents: list[Document]
    diagnostics: list[Diagnostic]
    texts: dict[str, str]


def discover(paths: list[str]) -> tuple[list[Path], list[Diagnostic]]:
    """Expand files and folders (recursively, `*.yaml`/`*.yml`) in a stable order."""
    names, problems = discover_names(paths)
    return [Path(name) for name in names], problems


def discover_names(paths: list[str]) -> tuple[list[str], list[Diagnostic]]:
    """What `discover` finds, as the strings of its paths (what `str(Path)`
    gives): a Path object, a join and a hash per file cost a tenth of
    validating a large tree, and names are what `validate` passes on."""
    found: list[str] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            base = str(path)
            # as Path(".").joinpath("a") gives "a"; one join for the folder, then
            # concatenation (what os.path.join does for relative parts, minus a call per file)
            head = os.path.join("" if base == "." else base, "")
            found.extend(head + os.sep.join(parts) for parts in sorted(_spec_files(raw)))
        elif path.exists():
            found.append(str(path))
        else:
            problems.append(
                Diagnostic(
                    "BS001",
                    f"no such file or folder: {raw}",
                    file=raw,
                    hint="check the path; folders are searched for *.yaml and *.yml",
                )
            )
    if not found and not problems:
        problems.append(
            Diagnostic(
                "BS010",
                "no spec files found in " + ", ".join(paths),
                hint="spec files end in .yaml or .yml",
            )
        )
    if os.path.normcase("A") == "A":  # names are equal as Paths when equal as strings
        return list(dict.fromkeys(found)), problems
    unique: dict[str, str] = {}  # the first of names equal as Paths (normcase)
    for name in found:
        unique.setdefault(os.path.normcase(name), name)
    return list(unique.values()), problems


def load_paths(paths: list[str]) -> LoadResult:
    """Discover and load every spec file under `paths`."""
    files, diagnostics = discover(paths)
    result = LoadResult([], diagnostics, {})
    for file in files:
        text, problems = read_text(file)
        result.diagnostics.extend(problems)
        if text is None:
            continue
        result.texts[str(file)] = text
        docs, problems = parse_documents(str(file), text)
        result.documents.extend(docs)
        result.diagnostics.extend(problems)
    return result


def read_text(file: Path | str) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or a diagnostic saying why there is none."""
    name = str(file)
    try:
        raw, size = _read_bytes(name)
    except OSError as exc:
        return None, [Diagnostic("BS001", f"cannot read file: {exc.strerror}", file=name)]
    if size:
        return None, [
            Diagnostic(
                "BS005",
                f"file is {size / (1 << 20):.1f} MiB; spec files are limited to"
                f" {MAX_FILE_BYTES >> 20} MiB",
                file=name,
                hint="a spec names its data, it does not hold it: point input.paths at"
                " the data files",
            )
        ]
    # (an int operand: `in` with a bytes one first tries it as an int, and
    # raising and clearing that TypeError costs four times the search)
    if 0 in raw:
        return None, [Diagnostic("BS006", "file is binary, not YAML text", file=name)]
    try:
        # what the utf-8-sig codec does, minus its Python-level wrapper
        text = (raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [
            Diagnostic(
                "BS006",
                f"file is not UTF-8 (byte {exc.start} is 0x{raw[exc.start]:02x})",
                file=name,
                hint="save the file as UTF-8",
            )
        ]
    return text, []


# Once: where `os` has no O_BINARY (POSIX), `getattr`'s miss raises and
# catches an AttributeError, which cost a sixth of reading a spec file.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def _read_bytes(name: str) -> tuple[bytes, int]:
    """Up to MAX_FILE_BYTES + 1 bytes of the file, and its size when it holds
    more (else 0). Plain descriptor calls: a buffered file object cost twice
    the time of the read itself for a spec-sized file. Reads of at most
    `_READ_CHUNK` bytes: `os.read(fd, n)` allocates n bytes up front, and
    a 1 MiB buffer per file took four times as long as the rest of the read."""
    fd = os.open(name, _READ_FLAGS)
    try:
        chunks, left = [], MAX_FILE_BYTES + 1
        while left > 0 and (chunk := os.read(fd, min(left, _READ_CHUNK))):
            chunks.append(chunk)
            left -= len(chunk)
        raw = b"".join(chunks)
        return raw, os.fstat(fd).st_size if len(raw) > MAX_FILE_BYTES else 0
    finally:
        os.close(fd)


def parse_documents(file: str, text: str) -> tuple[list[Document], list[Diagnostic]]:
    """Parse every document of a file; problems become diagnostics."""
    depth = guard.check_depth(text)
    if depth == "deep":
        return [], [
            Diagnostic(
                "BS009",
                f"YAML nesting is deeper than {guard.MAX_DEPTH} levels",
                file=file,
                hint="specs nest a few levels; check for runaway brackets or dashes",
            )
        ]
    datas = fastyaml.load_all(text) if depth == "ok" else None
    # Without aliases (the fast parser takes no text with any) a document has
    # fewer nodes than half its characters: the budget walk is only needed
    # for texts the reference parsed, or very large ones.
    count = datas is None or len(text) > 2 * MAX_NODES
    if datas is None:
        try:
            datas = parse_reference(text)
        except Exception as exc:
            return [], [yaml_error_diagnostic(file, text, exc)]
    if not datas or all(d is None for d in datas):
        return [], [
            Diagnostic(
                "BS007",
                "file holds no YAML documents",
                file=file,
                line=1,
                column=1,
                hint="write a BatchPredictionJob document or delete the file",
            )
        ]
    escapes = guard.has_escapes(text)
    docs: list[Document] = []
    problems: list[Diagnostic] = []
    for index, data in enumerate(datas):
        if data is None:
            continue  # an empty document between `---` separators
        shape = _shape_problem(file, index, data, count=count)
        found = [shape] if shape else _surrogate_problems(file, index, data) if escapes else []
        if found:
            problems.extend(found)
        else:
            docs.append(Document(file, index, data, text))
    return docs, problems


def _surrogate_problems(file: str, index: int, data: Any) -> list[Diagnostic]:
    return [
        Diagnostic(
            "BS006",
            "value holds a lone UTF-16 surrogate escape; no UTF-8 file or JSON request"
            " body can carry it",
            file=file,
            document=index,
            path=path,
            hint="write the character itself, or one \\U00XXXXXX escape for a character"
            " beyond U+FFFF",
        )
        for path in guard.surrogates(data)
    ]


def _shape_problem(file: str, index: int, data: Any, *, count: bool = True) -> Diagnostic | None:
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__} value"
        return Diagnostic(
            "BS008",
            f"document is {kind}, not a mapping",
            file=file,
            document=index,
            hint="a spec document is a mapping with apiVersion, kind, metadata and spec",
        )
    if not count:
        return None
    try:
        nodes = _count_nodes(data, {}, 0)
    except RecursionError:
        nodes = MAX_NODES + 1
    if nodes > MAX_NODES:
        return Diagnostic(
            "BS009",
            f"document expands to more than {MAX_NODES:,} values (aliases or nesting)",
            file=file,
            document=index,
            hint="write the values out; specs do not need deep aliasing",
        )
    return None


def _count_nodes(value: Any, seen: dict[int, int], depth: int) -> int:
    """Size after alias expansion, memoised by identity so shared nodes are cheap."""
    if depth > 100:
        raise RecursionError
    if not isinstance(value, dict | list):
        return 1
    key = id(value)
    if key in seen:
        return seen[key]
    children: Iterator[Any] = iter(value.values() if isinstance(value, dict) else value)
    total = 1
    for child in children:
        total += _count_nodes(child, seen, depth + 1)
        if total > MAX_NODES:
            break
    seen[key] = total
    return total


def yaml_error_diagnostic(file: str, text: str, exc: BaseException) -> Diagnostic:
    """Turn a ruamel.yaml exception into a diagnostic with a numbered excerpt."""
    from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError

    if isinstance(exc, RecursionError):
        return Diagnostic(
            "BS009",
            "YAML nesting is too deep",
            file=file,
            hint="specs nest a few levels; check for runaway brackets",
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = str(getattr(exc, "problem", None) or exc).strip()
    code, hint = "BS002", _syntax_hint(problem, text, line)
    if isinstance(exc, DuplicateKeyError):
        code, hint = "BS003", "keep one of the two; YAML mappings cannot repeat a key"
        problem = problem.split(" with value")[0]
    elif isinstance(exc, ConstructorError) and "tag" in problem:
        code = "BS004"
        hint = "remove the tag; specs hold plain strings, numbers, lists and mappings"
        problem = "YAML tag not allowed: " + problem.split("for the tag")[-1].strip(" '\"")
    message = problem[:1].upper() + problem[1:] if problem else "invalid YAML"
    return Diagnostic(
        code,
        message,
        file=file,
        line=line,
        column=column,
        hint=hint,
        excerpt=excerpt(text, line, column),
    )


def _syntax_hint(problem: str, text: str, line: int | None) -> str | None:
    lines = text.splitlines()
    current = lines[line - 1] if line and 0 < line <= len(lines) else ""
    if "\t" in current or "'\\t'" in problem:
        return "YAML indents with spaces; replace the tab"
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "a bracket is not closed, or a comma is missing"
    if "mapping values are not allowed" in problem:
        return "a value contains ': '; quote it"
    return None


def excerpt(text: str, line: int | None, column: int | None, context: int = 2) -> str | None:
    """A few numbered lines around `line` with a caret under `column`."""
    if line is None:
        return None
    lines = text.splitlines()
    if not lines:
        return None
    line = min(line, len(lines))
    first, last = max(1, line - context), min(len(lines), line + context)
    width = len(str(last))
    out = []
    for n in range(first, last + 1):
        out.append(f"{n:>{width}} | {lines[n - 1]}")
        if n == line and column is not None:
            out.append(f"{' ' * width} | {' ' * (column - 1)}^")
    return "\n".join(out)


def _spec_files(root: str, parts: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths (as parts below `root`) of the spec files in a folder tree: what
    `Path.rglob("*")` filtered by suffix and `is_file()` gives (symlinked
    folders are not entered, unreadable ones skipped), from one scandir per
    folder instead of a Path object and a stat call per file."""
    try:
        with os.scandir(os.path.join(root, *parts)) as it:
            entries = list(it)
    except PermissionError:
        return
    for entry in entries:
        name = entry.name
        dot = name.rfind(".")
        if 0 < dot < len(name) - 1 and name[dot:] in SPEC_SUFFIXES and _is_file(entry):
            yield (*parts, name)
        if _is_folder(entry):
            yield from _spec_files(root, (*parts, name))


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir() and not entry.is_symlink()
    except OSError:
        return False
