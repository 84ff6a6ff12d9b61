"""Reading `bq://` tables row by row, the way Vertex AI batch prediction does.

tabledata.list (no query job, no slot cost), each row one JSON instance.
Apart from writing because the engine's readers and the results command need
only this half, and reading pages by row index so a table spreads over workers.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from batchspec.io.bigquery.client import (
    TABLE_HINT,
    BigQueryRef,
    TableNotFoundError,
    api_errors,
    not_found,
    parse_uri,
    process_client,
)

READ_PAGE = 5000


def json_value(value: Any) -> Any:
    """A BigQuery cell as plain JSON."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


@dataclass(frozen=True)
class TableInfo:
    """What the engine plans with: size, last change, column names in order."""

    uri: str
    rows: int
    modified_ns: int | None
    columns: tuple[str, ...]
    streaming: bool


def _get_table(client: Any, ref: BigQueryRef) -> Any:
    from google.api_core import exceptions

    with api_errors(f"reading BigQuery table {ref.table_id}"):
        try:
            return client.get_table(ref.table_id)
        except exceptions.NotFound:
            raise not_found(f"table {ref.table_id}", TABLE_HINT) from None


def describe_table(uri: str, *, client: Any = None) -> TableInfo:
    """The size and columns of the table `uri` (one API call)."""
    ref = parse_uri(uri)
    table = _get_table(client or process_client(ref.project), ref)
    modified = table.modified
    return TableInfo(
        uri=uri,
        rows=int(table.num_rows or 0),
        modified_ns=int(modified.timestamp() * 1_000_000) * 1000 if modified else None,
        columns=tuple(field.name for field in table.schema),
        streaming=table.streaming_buffer is not None,
    )


def read_row_values(
    uri: str,
    *,
    start: int = 0,
    count: int | None = None,
    client: Any = None,
    page_size: int = READ_PAGE,
) -> tuple[tuple[str, ...], Iterator[list[Any]]]:
    """The column names of `uri` and its rows from row `start` (0-based), at
    most `count` of them, each a list of JSON values in column order.

    tabledata.list pages by row index, so a range of a table that is not
    changing reads the same rows every time (the engine checks that it is not)."""
    ref = parse_uri(uri)
    client = client or process_client(ref.project)
    table = _get_table(client, ref)
    columns = tuple(field.name for field in table.schema)
    if count == 0:
        return columns, iter(())
    rows = client.list_rows(
        table,
        start_index=start or None,
        max_results=count,
        page_size=min(page_size, count) if count else page_size,
    )
    return columns, ([json_value(value) for value in row.values()] for row in _guard(rows, ref))


def _guard(rows: Iterable[Any], ref: BigQueryRef) -> Iterator[Any]:
    """Rows, with API errors while paging (a table deleted mid-read, a refused
    call) reported as BatchspecErrors."""
    from google.api_core import exceptions

    with api_errors(f"reading BigQuery table {ref.table_id}"):
        try:
            yield from rows
        except exceptions.NotFound:
            raise not_found(f"table {ref.table_id}", TABLE_HINT) from None


def read_rows(
    uri: str, *, client: Any = None, page_size: int = 1000, missing_ok: bool = False
) -> Iterator[dict[str, Any]]:
    """Each row of the table `uri` as a JSON object (one instance per row)."""
    try:
        columns, rows = read_row_values(uri, client=client, page_size=page_size)
    except TableNotFoundError:
        if missing_ok:
            return
        raise
    for values in rows:
        yield dict(zip(columns, values, strict=True))


def table_rows(uri: str, *, client: Any = None) -> int | None:
    """Rows in the table `uri`, or None when it does not exist."""
    from google.api_core import exceptions

    ref = parse_uri(uri)
    client = client or process_client(ref.project)
    with api_errors(f"reading BigQuery table {ref.table_id}"):
        try:
            return int(client.get_table(ref.table_id).num_rows or 0)
        except exceptions.NotFound:
            return None
