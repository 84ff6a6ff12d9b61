"""Where one job's rows go in BigQuery and which columns they get.

Pure naming and typing, no client: Vertex AI's dataset and table names for a
destination URL (`prediction_<name>_<timestamp>`, `predictions`/`errors`), and
a schema inferred from the rows (nested values as JSON text in STRING
columns). The engine plans with these before it opens a client, so they live
apart from the calls that write.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from batchspec.io.bigquery.client import SCHEME, parse_uri

_NAME_BAD = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class OutputTables:
    """Where one job's rows go: a dataset (created if `create_dataset`) and two tables."""

    project: str
    dataset: str
    predictions: str
    errors: str
    create_dataset: bool

    @property
    def dataset_uri(self) -> str:
        return f"{SCHEME}{self.project}.{self.dataset}"

    @property
    def predictions_uri(self) -> str:
        return f"{self.dataset_uri}.{self.predictions}"

    @property
    def errors_uri(self) -> str:
        return f"{self.dataset_uri}.{self.errors}"


def errors_table_for(predictions_uri: str) -> str:
    """The errors table beside a predictions table, as Vertex names them:
    `predictions` -> `errors`, `predictions_<ts>` -> `errors_<ts>`; any other
    (user-named) table `t` -> `t_errors`."""
    dataset, _, table = predictions_uri.rpartition(".")
    if table.startswith("predictions"):
        return f"{dataset}.errors{table[len('predictions') :]}"
    return f"{predictions_uri}_errors"


def timestamp_suffix(when: dt.datetime) -> str:
    """`2024_05_01T10_00_00_123Z`: Vertex's BigQuery-safe timestamp form."""
    utc = when.astimezone(dt.UTC)
    return utc.strftime("%Y_%m_%dT%H_%M_%S_") + f"{utc.microsecond // 1000:03d}Z"


def output_tables(uri: str, *, name: str, when: dt.datetime) -> OutputTables:
    """Resolve a destination URL the way Vertex AI does (see the module docstring)."""
    ref = parse_uri(uri)
    stamp = timestamp_suffix(when)
    if ref.dataset is None:
        dataset = _NAME_BAD.sub("_", f"prediction_{name}_{stamp}")[:1024]
        return OutputTables(ref.project, dataset, "predictions", "errors", True)
    if ref.table is None:
        return OutputTables(
            ref.project, ref.dataset, f"predictions_{stamp}", f"errors_{stamp}", False
        )
    errors = errors_table_for(ref.uri).rsplit(".", 1)[-1]
    return OutputTables(ref.project, ref.dataset, ref.table, errors, False)


def _field_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    return "STRING"


def infer_schema(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(column, type) pairs in first-seen order; mixed or nested values are STRING."""
    types: dict[str, str] = {}
    for row in rows:
        for key, value in row.items():
            if value is None:
                types.setdefault(key, "")
                continue
            kind = _field_type(value)
            seen = types.get(key, "")
            if not seen:
                types[key] = kind
            elif seen != kind:
                types[key] = "FLOAT64" if {seen, kind} == {"INT64", "FLOAT64"} else "STRING"
    return [(key, kind or "STRING") for key, kind in types.items()]


def cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "STRING" and not isinstance(value, str):
        return json.dumps(value, sort_keys=True)
    if kind == "FLOAT64":
        return float(value)
    return value
