"""The runner contract and what every runner kind shares (pinned model files,
optional imports, rows for tabular models). The loader that picks a runner
from the spec is `runners.loader`, above the runner kinds."""

from __future__ import annotations

import hashlib
import importlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from batchspec.engine.errors import ModelLoadError, missing_extra_hint, os_errors
from batchspec.io import storage


class Runner(Protocol):
    """A loaded model.

    `predict` returns one prediction per instance, in order. It raises
    `InstanceError` (or any exception) when the batch failed in a way that may
    be one instance's fault: when `isolate_failures` is true, the engine then
    retries instance by instance so only the bad instance becomes an error
    line (`InstanceError(isolate=False)`: the request's failure, not to be
    retried so). It raises `EngineError` for failures of the model itself (a
    crashed or hung server, a broken contract), which fail the job.
    """

    isolate_failures: bool

    def predict(self, instances: list[Any]) -> Sequence[Any]:
        """Predictions for `instances`, same length, same order."""
        ...

    def close(self) -> None:
        """Release what the runner holds (processes, sessions)."""
        ...


@dataclass(frozen=True)
class RunnerContext:
    """What a runner may need besides its own spec section."""

    spec_dir: Path
    job_name: str
    batch_size: int
    worker: int = 0
    log_dir: Path | None = None
    parameters: dict[str, Any] | None = None
    env: dict[str, str] = field(default_factory=dict)
    key_field: str | None = None  # removed from instances before the model sees them


def import_optional(module: str, *, purpose: str) -> Any:
    """Import a module from one of batchspec's extras, with an install hint."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = missing_extra_hint(module) or f"pip install {module}"
        raise ModelLoadError(
            f"{purpose} needs {module}, which is not installed", hint=hint
        ) from exc


def read_pinned(path: str, spec_dir: Path, sha256: str | None, *, what: str) -> tuple[str, bytes]:
    """The bytes of a model file, checked against its pinned sha256.

    Hashing the bytes that are then loaded (not the file, then the file again)
    means the file cannot change between the check and the load.
    """
    where = storage.resolve(path, spec_dir)
    with (
        os_errors(
            ModelLoadError,
            missing=f"{what} file {where} does not exist",
            hint="check the runner's `path` (relative paths start at the spec file's folder)",
            failed=f"cannot read {what} file {where}",
        ),
        storage.open_binary(where) as fh,
    ):
        data = fh.read()
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise ModelLoadError(
                f"{what} file {where} has sha256 {actual}, but the spec pins {sha256}; refusing"
                " to load a file that is not the one pinned",
                hint="if you replaced the model on purpose, put the new checksum in `sha256:`",
            )
    return where, data


def to_rows(instances: list[Any], features: Sequence[str] | None, *, runner: str) -> list[Any]:
    """Instances as table rows: objects are ordered by `features`."""
    if instances and isinstance(instances[0], dict):
        if not features:
            from batchspec.engine.errors import ModelContractError

            raise ModelContractError(
                f"instances are JSON objects, but the {runner} runner does not know the"
                " column order",
                hint=f"add `features: [...]` (the column order) to the {runner} runner, or"
                " send arrays (instanceType: array with includedFields)",
            )
        if len(features) == 1:  # itemgetter of one name gives the value, not a row
            return [[inst[features[0]]] for inst in instances]
        # tuples picked in C (numpy reads them as it reads lists): a comprehension
        # per row (Python 3.11 builds a function for each) cost 2.4 k instructions
        # more per four-feature instance
        return list(map(operator.itemgetter(*features), instances))
    return instances


def as_list(values: Any) -> list[Any]:
    """A model's batch output as a list of JSON-ready rows."""
    if hasattr(values, "tolist"):
        out: list[Any] = values.tolist()
        return out
    return list(values)
