"""Spec files and folders in, one validation result out.

The entry point above the two ways of checking files: one after another in
this process (`batchspec.validate.validator.check_file`), or in chunks on
worker processes (`batchspec.validate.parallel`). It sits in a module of its
own so that neither of those needs to import the other.
"""

from __future__ import annotations

from collections.abc import Iterable

from batchspec.load.source import discover_names
from batchspec.validate.validator import FileReport, ValidationResult, check_file, merge


def validate_paths(
    paths: Iterable[str], *, keep_specs: bool = True, workers: int | None = None
) -> ValidationResult:
    """Load and validate every spec file under `paths`.

    `keep_specs=False` keeps only diagnostics and counts (what `batchspec
    validate` prints), which lets large trees use worker processes; `workers`
    overrides how many (1: in this process)."""
    files, problems = discover_names(list(paths))
    if keep_specs or workers == 1:
        reports: Iterable[FileReport] = (check_file(f, keep_specs=keep_specs) for f in files)
    else:
        from batchspec.validate.parallel import check_files  # starts worker processes

        reports = check_files(files, workers=workers)
    return merge(reports, problems)
