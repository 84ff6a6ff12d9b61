"""Read a job's predictions and join them to their input keys.

Batch outputs are not in input order; every service writes one JSON object
per instance, carrying the instance's key (when the spec names a key field)
or the instance itself, plus the prediction or an error. This module streams
those lines from the result files (local or any fsspec URL) and yields one
row per instance with its key, so results can be joined back to inputs.

Recognised file names: `prediction.results-*` / `prediction.errors_stats-*`
(ML Engine and the local engine) and `predictions_*.jsonl` / `errors_*.jsonl`
(Vertex AI).
"""

from __future__ import annotations

import csv
import fnmatch
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

RESULT_PATTERNS = ("prediction.results-*", "predictions_*.jsonl", "predictions*.jsonl")
ERROR_PATTERNS = ("prediction.errors_stats-*", "errors_*.jsonl")


@dataclass(frozen=True)
class ResultRow:
    """One instance's outcome."""

    key: Any
    prediction: Any = None
    error: Any = None
    file: str = ""
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        """`{"key", "prediction"}` or `{"key", "error"}`."""
        out: dict[str, Any] = {"key": self.key}
        if self.error is not None:
            out["error"] = self.error
        else:
            out["prediction"] = self.prediction
        return out


class ResultsError(ValueError):
    """A result line that cannot be read."""


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def split_outputs(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(result files, error files) among `paths`, sorted."""
    results, errors = [], []
    for path in paths:
        name = _name(path)
        if any(fnmatch.fnmatchcase(name, p) for p in ERROR_PATTERNS):
            errors.append(path)
        elif any(fnmatch.fnmatchcase(name, p) for p in RESULT_PATTERNS):
            results.append(path)
    return sorted(results), sorted(errors)


def list_outputs(location: str) -> list[str]:
    """Every file in an output folder (local path or fsspec URL)."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(location)
    protocol = location.split("://", 1)[0] + "://" if "://" in location else ""
    found = fs.find(str(root).rstrip("/"))
    return [p if not protocol or p.startswith(protocol) else protocol + p for p in found]


def _key(obj: dict[str, Any], key_field: str | None) -> Any:
    if "key" in obj:
        return obj["key"]
    instance = obj.get("instance")
    if key_field and isinstance(instance, dict) and key_field in instance:
        return instance[key_field]
    return instance


def _lines(path: str) -> Iterator[tuple[int, str]]:
    import fsspec

    with fsspec.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def iter_rows(
    results: Sequence[str], errors: Sequence[str] = (), *, key_field: str | None = None
) -> Iterator[ResultRow]:
    """Stream rows from result files, then from error files."""
    for path in [*results, *errors]:
        for number, line in _lines(path):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ResultsError(f"{path}:{number}: not JSON: {exc.msg}") from exc
            if not isinstance(obj, dict):
                raise ResultsError(f"{path}:{number}: expected a JSON object per line")
            key = _key(obj, key_field)
            if "error" in obj:
                yield ResultRow(key, error=obj["error"], file=path, line=number)
            else:
                yield ResultRow(key, prediction=obj.get("prediction"), file=path, line=number)


def write_jsonl(rows: Iterable[ResultRow], out: IO[str]) -> int:
    """One JSON object per row; returns the number of rows."""
    count = 0
    for row in rows:
        out.write(json.dumps(row.to_dict(), ensure_ascii=False, default=str) + "\n")
        count += 1
    return count


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def prediction_columns(rows: Iterable[ResultRow]) -> list[str] | None:
    """Column names when every prediction is a flat object (None otherwise)."""
    columns: dict[str, None] = {}
    for row in rows:
        if row.error is not None:
            continue
        if not isinstance(row.prediction, dict) or not all(
            _scalar(v) for v in row.prediction.values()
        ):
            return None
        columns.update(dict.fromkeys(row.prediction))
    return list(columns) or None


def _cell(value: Any) -> Any:
    return value if _scalar(value) else json.dumps(value, ensure_ascii=False, default=str)


def write_csv(
    rows: Iterable[ResultRow], out: IO[str], *, columns: Sequence[str] | None = None
) -> int:
    """CSV with `key`, the prediction (one column per field when `columns` is given,
    else JSON in one `prediction` column) and `error`; returns the number of rows."""
    header = ["key", *(f"prediction.{c}" for c in columns)] if columns else ["key", "prediction"]
    writer = csv.writer(out)
    writer.writerow([*header, "error"])
    count = 0
    for row in rows:
        if columns:
            values = [
                _cell(row.prediction.get(c)) if isinstance(row.prediction, dict) else None
                for c in columns
            ]
        else:
            values = [_cell(row.prediction)]
        writer.writerow([_cell(row.key), *values, _cell(row.error)])
        count += 1
    return count
