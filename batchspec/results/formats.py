"""The shapes of batch prediction output files, line by line.

Which file is which (by name; order never matches input order):

* Vertex AI: `predictions_0001.jsonl` ... with `{"instance": ..., "prediction":
  ...}` or, with a keyField, `{"key": ..., "prediction": ...}`; and
  `errors_0001.jsonl` with the instance (or key) plus `"error": {"code",
  "message"}`. Newer output may name the error status `"status"` instead of
  `"code"`. CSV output (`predictions_0001.csv`) has a header row.
* Cloud ML Engine, and Vertex custom-container jobs on the older pipeline:
  `prediction.results-NNNNN-of-NNNNN` with one JSON object per line (the
  model's outputs, which carry the instance key when the model passes it
  through), and `prediction.errors_stats-NNNNN-of-NNNNN`, where each line is
  the *Python repr of a tuple* written by the Dataflow pipeline: either
  `('error message', 3)` (errors grouped with a count) or
  `('{"instance": ...}', 'error message')` / `('error message', ['line',
  ...])` (an error and the input it was about).
* The local engine writes the `prediction.results-*` pair with JSON lines;
  an errors_stats line that is a JSON object is read as such.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from batchspec.results.records import ResultError, ResultRecord

RESULTS_PREFIX = "prediction.results-"
ERRORS_STATS_PREFIX = "prediction.errors_stats-"
SHARD_PREFIXES = (RESULTS_PREFIX, ERRORS_STATS_PREFIX)
_SHARD_NAME = re.compile(r"^prediction\.(results|errors_stats)-\d{5}-of-\d{5}$")


def shard_name(kind: str, index: int, count: int) -> str:
    """`prediction.results-00000-of-00004` (kind `results` or `errors_stats`):
    the sharded names ML Engine, older Vertex jobs and the local engine write."""
    return f"prediction.{kind}-{index:05d}-of-{count:05d}"


def is_shard_name(name: str) -> bool:
    """True for a file name `shard_name` makes."""
    return bool(_SHARD_NAME.match(name))


class FileKind(StrEnum):
    """What an output file holds."""

    PREDICTIONS = "predictions"
    ERRORS = "errors"
    ERROR_STATS = "error_stats"


def file_kind(name: str) -> FileKind | None:
    """The kind of output file `name` (a path or URL) is; None for other files."""
    base = name.rstrip("/").rsplit("/", 1)[-1]
    if base.startswith(("predictions_", RESULTS_PREFIX)):
        return FileKind.PREDICTIONS
    if base.startswith(ERRORS_STATS_PREFIX):
        return FileKind.ERROR_STATS
    if base.startswith("errors_"):
        return FileKind.ERRORS
    return None


def parse_error(value: Any) -> ResultError:
    """`{"code": 3, "message": ...}`, `{"status": "INVALID_ARGUMENT", ...}` or text."""
    if isinstance(value, dict):
        code = value.get("code", value.get("status"))
        message = value.get("message") or json.dumps(value, sort_keys=True)
        return ResultError(str(message), code if isinstance(code, int | str) else None)
    return ResultError(str(value))


def record_from_object(obj: Any, source: str | None = None) -> ResultRecord:
    """One output object: a Vertex prediction/error line or a model's raw output."""
    if not isinstance(obj, dict):
        return ResultRecord(prediction=obj, source=source)
    has_ident = "key" in obj or "instance" in obj
    if "error" in obj and has_ident:
        return ResultRecord(
            key=obj.get("key"),
            instance=obj.get("instance"),
            error=parse_error(obj["error"]),
            source=source,
        )
    if "prediction" in obj or "predictions" in obj:
        prediction = obj.get("prediction", obj.get("predictions"))
        return ResultRecord(
            key=obj.get("key"), instance=obj.get("instance"), prediction=prediction, source=source
        )
    if "error" in obj and len(obj) <= 2:
        return ResultRecord(error=parse_error(obj["error"]), source=source)
    # ML Engine: the line *is* the model's output; a passed-through key stays a key.
    return ResultRecord(key=obj.get("key"), prediction=obj, source=source)


def parse_prediction_lines(
    lines: Iterable[str], source: str | None = None
) -> Iterator[ResultRecord]:
    """Records from a JSON-lines predictions or errors file. A line that is not
    a JSON object raises ValueError: reading a file whole goes through
    `batchspec.results.shards`, which counts such lines instead."""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        obj = json.loads(text)
        if not isinstance(obj, dict):
            raise ValueError(f"line {number} of {source or 'the output'} is not a JSON object")
        yield record_from_object(obj, source)


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _instance_of(value: Any) -> Any:
    """An input instance inside an errors_stats tuple: a JSON text, a list of
    input lines, or a `{"instance": ...}` wrapper."""
    if isinstance(value, str):
        found = _maybe_json(value)
        if isinstance(found, dict) and set(found) <= {"instance", "key"}:
            return found.get("instance", found)
        return found if isinstance(found, dict | list) else None
    if isinstance(value, list | tuple):
        items = [_instance_of(v) if isinstance(v, str) else v for v in value]
        return items[0] if len(items) == 1 else items
    return None


def parse_error_stats_line(line: str, source: str | None = None) -> ResultRecord | None:
    """One errors_stats line (see the module docstring for the shapes)."""
    text = line.strip()
    if not text:
        return None
    if text.startswith("{"):
        obj = _maybe_json(text)
        if isinstance(obj, dict):
            return (
                record_from_object(obj, source)
                if "error" in obj
                else ResultRecord(error=parse_error(obj), source=source)
            )
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return ResultRecord(error=ResultError(text), source=source)
    if not isinstance(value, tuple):
        return ResultRecord(error=ResultError(str(value)), source=source)
    message: str | None = None
    instance: Any = None
    count = 1
    for item in value:
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            count = item
            continue
        found = _instance_of(item)
        if found is not None and instance is None:
            instance = found
        elif isinstance(item, str) and message is None:
            message = item
    key = instance.get("key") if isinstance(instance, dict) else None
    return ResultRecord(
        key=key,
        instance=instance,
        error=ResultError(message or "prediction failed"),
        source=source,
        count=max(count, 1),
    )


def parse_error_stats(lines: Iterable[str], source: str | None = None) -> Iterator[ResultRecord]:
    """Records from a `prediction.errors_stats-*` file."""
    for line in lines:
        record = parse_error_stats_line(line, source)
        if record is not None:
            yield record


def parse_csv(text: str, kind: FileKind, source: str | None = None) -> Iterator[ResultRecord]:
    """Records from a CSV predictions/errors file (header row; JSON cells decoded)."""
    for row in csv.DictReader(io.StringIO(text)):
        yield csv_record({k: v for k, v in row.items() if k is not None}, kind, source)


def csv_record(row: dict[str, str | None], kind: FileKind, source: str | None) -> ResultRecord:
    """One CSV row (column -> cell): `key`, the instance columns, and
    `prediction` (or `error`/`errors` in an errors file)."""
    values = {k: _cell(v) for k, v in row.items()}
    key = values.pop("key", None)
    if kind is FileKind.ERRORS:
        error = parse_error(values.pop("error", values.pop("errors", "prediction failed")))
        return ResultRecord(key=key, instance=values or None, error=error, source=source)
    prediction = values.pop("prediction", None)
    instance = values.pop("instance", None) if set(values) == {"instance"} else values or None
    return ResultRecord(key=key, instance=instance, prediction=prediction, source=source)


def _cell(value: str | None) -> Any:
    if value is None:
        return None
    found = _maybe_json(value)
    return found if found is not None else value


__all__ = [
    "ERRORS_STATS_PREFIX",
    "RESULTS_PREFIX",
    "SHARD_PREFIXES",
    "FileKind",
    "csv_record",
    "file_kind",
    "is_shard_name",
    "parse_csv",
    "parse_error",
    "parse_error_stats",
    "parse_error_stats_line",
    "parse_prediction_lines",
    "record_from_object",
    "shard_name",
]
