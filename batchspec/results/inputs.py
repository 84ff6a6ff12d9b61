"""Read a job's input instances, to join predictions back to them.

JSON lines and CSV files (local or `gs://`, with Cloud Storage wildcards expanded
as the engine expands them: `batchspec.io.storage.expand`) and BigQuery
tables. TFRecord inputs carry no readable key, so joins of TFRecord jobs rely
on the outputs alone.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from batchspec.errors import BatchspecError
from batchspec.io import storage


def read_instances(
    paths: str | Iterable[str], *, data_format: str = "JSONL", bigquery_client: Any = None
) -> Iterator[Any]:
    """Each input instance, in file order."""
    items = [paths] if isinstance(paths, str) else list(paths)
    fmt = data_format.upper()
    for pattern in items:
        if pattern.startswith("bq://"):
            from batchspec.io.bigquery import read_rows

            yield from read_rows(pattern, client=bigquery_client)
            continue
        for url in storage.expand(pattern):
            with storage.open_text(url) as handle:
                if fmt == "CSV":
                    yield from csv.DictReader(handle)
                elif fmt in ("JSONL", "JSON", "TEXT"):
                    for line in handle:
                        if line.strip():
                            yield _json_line(line)
                else:
                    raise BatchspecError(
                        f"cannot read {fmt} inputs to join results",
                        hint="join on the outputs' keys alone (no inputs)",
                    )


def _json_line(line: str) -> Any:
    """A JSON line's value; a line that is not JSON is its text, which is how
    the engine names it in its errors file, so the join still finds it."""
    try:
        return json.loads(line)
    except ValueError:
        return line.rstrip("\r\n")


__all__ = ["read_instances"]
