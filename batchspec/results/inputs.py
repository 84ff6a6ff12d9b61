"""Read a job's input instances, to join predictions back to them.

JSON lines and CSV files (local or `gs://`, with the seed's wildcards: a `*`
in the last path segment) and BigQuery tables. TFRecord inputs carry no
readable key, so joins of TFRecord jobs rely on the outputs alone.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from batchspec.errors import BatchspecError
from batchspec.io import storage


def expand(pattern: str) -> list[str]:
    """The files a path or wildcard names, sorted (a plain path is kept as is)."""
    if "*" not in pattern:
        return [pattern]
    fs = storage.filesystem(pattern)
    found = sorted(fs.glob(storage.strip_scheme(pattern)))
    return [storage.with_scheme(pattern, path) for path in found]


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
        for url in expand(pattern):
            with storage.open_text(url) as handle:
                if fmt == "CSV":
                    yield from csv.DictReader(handle)
                elif fmt in ("JSONL", "JSON", "TEXT"):
                    for number, line in enumerate(handle, 1):
                        if line.strip():
                            yield _json_line(line, url, number)
                else:
                    raise BatchspecError(
                        f"cannot read {fmt} inputs to join results",
                        hint="join on the outputs' keys alone (no inputs)",
                    )


def _json_line(line: str, url: str, number: int) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise BatchspecError(f"{url}:{number}: not a JSON line: {line[:120]!r}") from None


__all__ = ["expand", "read_instances"]
