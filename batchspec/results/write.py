"""Writing joined results out: JSON lines or CSV, for `batchspec results`.

One row per instance: its key, and its prediction or error. CSV spreads a flat
prediction object over `prediction.<field>` columns (so a spreadsheet can sort
on a score) and keeps anything nested as JSON in one cell.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

from batchspec.results.records import JoinedRecord


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _cell(value: Any) -> Any:
    return value if _scalar(value) else json.dumps(value, ensure_ascii=False, default=str)


def write_jsonl(rows: Iterable[JoinedRecord], out: IO[str]) -> int:
    """One JSON object per row; returns the number of rows."""
    count = 0
    for row in rows:
        out.write(json.dumps(row.to_json(), ensure_ascii=False, default=str) + "\n")
        count += 1
    return count


def prediction_columns(rows: Iterable[JoinedRecord]) -> list[str] | None:
    """Column names when every prediction is a flat object (None otherwise)."""
    columns: dict[str, None] = {}
    for row in rows:
        if row.prediction is None:
            continue
        if not isinstance(row.prediction, dict) or not all(
            _scalar(v) for v in row.prediction.values()
        ):
            return None
        columns.update(dict.fromkeys(row.prediction))
    return list(columns) or None


def write_csv(
    rows: Iterable[JoinedRecord], out: IO[str], *, columns: Sequence[str] | None = None
) -> int:
    """CSV with `key`, `outcome`, the prediction (one column per field when
    `columns` is given, else JSON in one `prediction` column) and `error`."""
    header = ["key", "outcome"]
    header += [f"prediction.{c}" for c in columns] if columns else ["prediction"]
    writer = csv.writer(out)
    writer.writerow([*header, "error"])
    count = 0
    for row in rows:
        if columns:
            pred = row.prediction if isinstance(row.prediction, dict) else {}
            values = [_cell(pred.get(c)) for c in columns]
        else:
            values = [_cell(row.prediction)]
        error = str(row.error) if row.error is not None else None
        writer.writerow([_cell(row.key), row.outcome.value, *values, error])
        count += 1
    return count
