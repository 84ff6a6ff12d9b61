"""`bq://` sources and destinations through google-cloud-bigquery.

Same URLs and the same table layout as Vertex AI batch prediction, so a spec
runs the same on the local engine and on the service:

* a source `bq://project.dataset.table` is read row by row (tabledata.list,
  no query job, no slot cost); each row becomes one JSON instance
  (dates and times as ISO strings, NUMERIC as float, BYTES as base64);
* a destination `bq://project` gets a new dataset
  `prediction_<name>_<YYYY_MM_DDThh_mm_ss_sssZ>` holding tables `predictions`
  and `errors`; `bq://project.dataset` gets tables `predictions_<timestamp>`
  and `errors_<timestamp>` in that (existing) dataset; a full
  `bq://project.dataset.table` is used as the predictions table as given
  (its errors table is `<table>_errors`).

Rows are written with streaming inserts into tables created with a schema
inferred from the rows (nested values as JSON text in STRING columns), so
both the real service and the BigQuery emulator accept them.

With `BIGQUERY_EMULATOR_HOST` set (bqemulator's fixtures set it), clients
talk to the emulator with anonymous credentials.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from batchspec.errors import BatchspecError

SCHEME = "bq://"
EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
INSERT_CHUNK = 500
_NAME_BAD = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class BigQueryRef:
    """A parsed `bq://project[.dataset[.table]]`."""

    project: str
    dataset: str | None = None
    table: str | None = None

    @property
    def uri(self) -> str:
        return SCHEME + ".".join(p for p in (self.project, self.dataset, self.table) if p)

    @property
    def table_id(self) -> str:
        """`project.dataset.table`, as google-cloud-bigquery wants it."""
        if not self.dataset or not self.table:
            raise BatchspecError(f"{self.uri} does not name a table")
        return f"{self.project}.{self.dataset}.{self.table}"


def parse_uri(uri: str) -> BigQueryRef:
    """`bq://p.d.t` -> BigQueryRef; a bad URL is a BatchspecError with a hint."""
    if not uri.startswith(SCHEME):
        raise BatchspecError(f"{uri!r} is not a bq:// URL", hint="write bq://project.dataset.table")
    parts = uri[len(SCHEME) :].split(".")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise BatchspecError(
            f"{uri!r} is not bq://project[.dataset[.table]]",
            hint="write bq://project.dataset.table",
        )
    return BigQueryRef(*parts)


def make_client(project: str | None = None, credentials: Any = None) -> Any:
    """A google-cloud-bigquery Client (the emulator's, when BIGQUERY_EMULATOR_HOST is set)."""
    try:
        from google.cloud import bigquery
    except ImportError:
        raise BatchspecError(
            "bq:// needs google-cloud-bigquery", hint="pip install 'batchspec[bigquery]'"
        ) from None
    host = os.environ.get(EMULATOR_ENV, "").strip()
    if host:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        endpoint = host if host.startswith("http") else f"http://{host}"
        return bigquery.Client(
            project=project,
            credentials=credentials or AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    return bigquery.Client(project=project, credentials=credentials)


# --- reading ------------------------------------------------------------------------


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


def read_rows(
    uri: str, *, client: Any = None, page_size: int = 1000, missing_ok: bool = False
) -> Iterator[dict[str, Any]]:
    """Each row of the table `uri` as a JSON object (one instance per row)."""
    ref = parse_uri(uri)
    client = client or make_client(ref.project)
    from google.api_core import exceptions

    try:
        rows = client.list_rows(ref.table_id, page_size=page_size)
        for row in rows:
            yield {key: json_value(value) for key, value in row.items()}
    except exceptions.NotFound:
        if missing_ok:
            return
        raise BatchspecError(
            f"BigQuery table {ref.table_id} not found",
            hint="check the project, dataset and table names, and that the caller has"
            " roles/bigquery.dataViewer on the dataset",
        ) from None


# --- writing --------------------------------------------------------------------------


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
    return OutputTables(ref.project, ref.dataset, ref.table, f"{ref.table}_errors", False)


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


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "STRING" and not isinstance(value, str):
        return json.dumps(value, sort_keys=True)
    if kind == "FLOAT64":
        return float(value)
    return value


def ensure_dataset(client: Any, tables: OutputTables, *, location: str | None = None) -> None:
    """Create the job's dataset when the destination named only a project."""
    if not tables.create_dataset:
        return
    from google.cloud import bigquery

    dataset = bigquery.Dataset(f"{tables.project}.{tables.dataset}")
    if location:
        dataset.location = location
    client.create_dataset(dataset, exists_ok=True)


def write_rows(table_uri: str, rows: Iterable[Mapping[str, Any]], *, client: Any = None) -> int:
    """Create `table_uri` with a schema inferred from `rows` and insert them.

    The table must not exist (as on Vertex: a full table reference must be
    new). Returns the number of rows written."""
    from google.api_core import exceptions
    from google.cloud import bigquery

    ref = parse_uri(table_uri)
    client = client or make_client(ref.project)
    batch = [dict(r) for r in rows]
    schema = infer_schema(batch)
    if not schema:
        schema = [("prediction", "STRING")]
    table = bigquery.Table(ref.table_id, schema=[bigquery.SchemaField(n, t) for n, t in schema])
    try:
        client.create_table(table)
    except exceptions.Conflict:
        raise BatchspecError(
            f"BigQuery table {ref.table_id} already exists",
            hint="a batch job writes a new table: name a dataset (or a new table) instead",
        ) from None
    kinds = dict(schema)
    for start in range(0, len(batch), INSERT_CHUNK):
        chunk = [
            {key: _cell(value, kinds[key]) for key, value in row.items()}
            for row in batch[start : start + INSERT_CHUNK]
        ]
        problems = client.insert_rows_json(ref.table_id, chunk)
        if problems:
            raise BatchspecError(
                f"BigQuery refused {len(problems)} row(s) for {ref.table_id}: {problems[:3]}",
                hint="check the row values against the table's schema",
            )
    return len(batch)


def write_job_output(
    destination: str,
    predictions: Iterable[Mapping[str, Any]],
    errors: Iterable[Mapping[str, Any]] = (),
    *,
    name: str,
    when: dt.datetime,
    client: Any = None,
    location: str | None = None,
) -> OutputTables:
    """Write one job's prediction and error rows to `destination` the Vertex way."""
    tables = output_tables(destination, name=name, when=when)
    client = client or make_client(tables.project)
    ensure_dataset(client, tables, location=location)
    write_rows(tables.predictions_uri, predictions, client=client)
    error_rows = list(errors)
    if error_rows:
        write_rows(tables.errors_uri, error_rows, client=client)
    return tables


__all__ = [
    "BigQueryRef",
    "OutputTables",
    "ensure_dataset",
    "infer_schema",
    "json_value",
    "make_client",
    "output_tables",
    "parse_uri",
    "read_rows",
    "timestamp_suffix",
    "write_job_output",
    "write_rows",
]
