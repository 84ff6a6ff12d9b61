"""Read a job's outputs wherever they are: a folder or files on local disk or
`gs://`, or BigQuery tables.

`read_results(locations)` takes what a backend's `outputs()` returns (or a
folder the local engine wrote, or a `bq://` table) and yields one
`ResultRecord` per output line or row, predictions first, then errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from batchspec.errors import BatchspecError
from batchspec.io import storage
from batchspec.results.formats import (
    FileKind,
    file_kind,
    parse_csv,
    parse_error,
    parse_error_stats,
    parse_prediction_lines,
)
from batchspec.results.records import ResultRecord

_ORDER = {FileKind.PREDICTIONS: 0, FileKind.ERRORS: 1, FileKind.ERROR_STATS: 2}


def output_files(location: str) -> list[str]:
    """The result and error files in a folder (or the file itself), in reading order."""
    kind = file_kind(location)
    if kind is not None and not location.endswith("/"):
        return [location]
    found = [f for f in storage.list_files(location) if file_kind(f) is not None]
    if not found:
        raise BatchspecError(
            f"no prediction output files in {location}",
            hint="expected predictions_*, errors_*, prediction.results-* or"
            " prediction.errors_stats-* files; is the job finished?",
        )
    return sorted(found, key=lambda f: (_ORDER[file_kind(f) or FileKind.PREDICTIONS], f))


def read_file(url: str) -> Iterator[ResultRecord]:
    """Every record of one output file."""
    kind = file_kind(url)
    if kind is None:
        raise BatchspecError(f"{url} is not a prediction output file")
    with storage.open_text(url) as handle:
        if url.endswith(".csv"):
            yield from parse_csv(handle.read(), kind, url)
        elif kind is FileKind.ERROR_STATS:
            yield from parse_error_stats(handle, url)
        else:
            yield from parse_prediction_lines(handle, url)


def read_table(uri: str, *, client: Any = None) -> Iterator[ResultRecord]:
    """Rows of a Vertex predictions or errors table in BigQuery.

    Predictions rows hold the instance columns (or `key`) and `prediction`;
    errors rows hold the instance columns and `errors` (code, message). A
    missing errors table means no errors. Rows of one table may differ in
    shape (the local engine writes keyed rows, and an unreadable input line
    as one `instance` column, side by side): columns that are NULL in a row
    are not part of its instance."""
    from batchspec.io.bigquery import read_rows

    name = uri.rsplit(".", 1)[-1]
    errors_table = name.startswith("errors")
    for row in read_rows(uri, client=client, missing_ok=errors_table):
        values = dict(row)
        key = values.pop("key", None)
        if errors_table:
            status = _decode(values.pop("errors", values.pop("error", "prediction failed")))
            yield ResultRecord(
                key=key, instance=_instance(values), error=parse_error(status), source=uri
            )
        else:
            prediction = _decode(values.pop("prediction", None))
            yield ResultRecord(
                key=key, instance=_instance(values), prediction=prediction, source=uri
            )


def _instance(values: dict[str, Any]) -> Any:
    """The instance a row's remaining columns hold: None when every one is
    NULL, the value of a lone `instance` column, else the columns."""
    present = {k for k, v in values.items() if v is not None}
    if not present:
        return None
    if present == {"instance"}:
        return values["instance"]
    return values


def _decode(value: Any) -> Any:
    """Predictions written as JSON text come back as JSON."""
    if isinstance(value, str) and value[:1] in "{[":
        import json

        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def read_results(
    locations: str | Iterable[str], *, bigquery_client: Any = None
) -> Iterator[ResultRecord]:
    """Every record under `locations`: folders, files and `bq://` tables."""
    items = [locations] if isinstance(locations, str) else list(locations)
    for location in items:
        if location.startswith("bq://"):
            yield from read_table(location, client=bigquery_client)
            continue
        for url in output_files(location):
            yield from read_file(url)


__all__ = ["output_files", "read_file", "read_results", "read_table"]
