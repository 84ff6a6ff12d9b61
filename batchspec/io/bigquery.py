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

Rows are written into tables created with a schema inferred from the rows
(nested values as JSON text in STRING columns), so both the real service and
the BigQuery emulator accept them: `write_rows` with streaming inserts (small
outputs, the tests' service double), `load_json_lines` with one load job
from a local file (the local engine: a load job is atomic, so the table
appears whole or not at all, and WRITE_EMPTY plus a deterministic job id
make it happen at most once).

The local engine reads a source in row ranges (`describe_table` for the size,
`read_row_values` from a start row), so a large table spreads over workers.

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
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from batchspec.errors import BatchspecError

SCHEME = "bq://"
EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
INSERT_CHUNK = 500
READ_PAGE = 5000
LOAD_ATTEMPTS = 5
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


def _missing_library() -> BatchspecError:
    return BatchspecError(
        "bq:// needs google-cloud-bigquery", hint="pip install 'batchspec[bigquery]'"
    )


def make_client(project: str | None = None, credentials: Any = None) -> Any:
    """A google-cloud-bigquery Client (the emulator's, when BIGQUERY_EMULATOR_HOST is set)."""
    try:
        from google.cloud import bigquery
    except ImportError:
        raise _missing_library() from None
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
    with api_errors("connecting to BigQuery"):
        return bigquery.Client(project=project, credentials=credentials)


def process_client(project: str) -> Any:
    """One client per project and process (worker processes are forked, and a
    client's HTTP session must not cross a fork)."""
    return _process_client(project, os.environ.get(EMULATOR_ENV, ""), os.getpid())


@lru_cache(maxsize=8)
def _process_client(project: str, emulator: str, pid: int) -> Any:
    return make_client(project)


@contextmanager
def api_errors(action: str) -> Iterator[None]:
    """google-cloud and google-auth errors raised inside as BatchspecErrors
    that say what failed and what to check (never a traceback for a refused
    call or missing credentials)."""
    try:
        from google.api_core import exceptions
        from google.auth import exceptions as auth_exceptions
    except ImportError:
        raise _missing_library() from None
    try:
        yield
    except exceptions.Forbidden as exc:
        raise BatchspecError(
            f"{action}: {exc.message}",
            hint="check that the BigQuery API is enabled and that the caller has the BigQuery"
            " roles on the dataset (docs/cloud.md, IAM roles)",
        ) from None
    except exceptions.GoogleAPIError as exc:
        raise BatchspecError(f"{action}: {exc}") from None
    except auth_exceptions.GoogleAuthError as exc:
        raise BatchspecError(
            f"{action}: no usable credentials ({exc})",
            hint="run `gcloud auth application-default login`, or set"
            " GOOGLE_APPLICATION_CREDENTIALS",
        ) from None


class TableNotFoundError(BatchspecError):
    """The table a URL names does not exist (or the caller cannot see it)."""


def _not_found(what: str, hint: str) -> TableNotFoundError:
    return TableNotFoundError(f"BigQuery {what} not found", hint=hint)


_TABLE_HINT = (
    "check the project, dataset and table names, and that the caller has"
    " roles/bigquery.dataViewer on the dataset"
)


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
            raise _not_found(f"table {ref.table_id}", _TABLE_HINT) from None


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
            raise _not_found(f"table {ref.table_id}", _TABLE_HINT) from None


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
            {key: cell(value, kinds[key]) for key, value in row.items()}
            for row in batch[start : start + INSERT_CHUNK]
        ]
        problems = client.insert_rows_json(ref.table_id, chunk)
        if problems:
            raise BatchspecError(
                f"BigQuery refused {len(problems)} row(s) for {ref.table_id}: {problems[:3]}",
                hint="check the row values against the table's schema",
            )
    return len(batch)


def check_dataset(client: Any, tables: OutputTables) -> None:
    """Fail early when a destination dataset that must exist does not."""
    if tables.create_dataset:
        return
    from google.api_core import exceptions

    dataset = f"{tables.project}.{tables.dataset}"
    with api_errors(f"reading BigQuery dataset {dataset}"):
        try:
            client.get_dataset(dataset)
        except exceptions.NotFound:
            raise BatchspecError(
                f"BigQuery dataset {dataset} not found",
                hint=f"create it (bq mk {tables.project}:{tables.dataset}), or name only the"
                " project (bq://project) to get a new dataset per job",
            ) from None


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


def load_json_lines(
    table_uri: str,
    source: Path,
    schema: list[tuple[str, str]],
    *,
    job_id: str,
    client: Any = None,
    location: str | None = None,
) -> None:
    """Create `table_uri` from a local JSON-lines file in one load job.

    A load job is atomic: the table appears with every row or not at all.
    WRITE_EMPTY refuses a table that already holds rows, and `job_id` makes a
    repeated call (after a crash, or a lost answer) adopt the job it already
    started instead of loading twice: BigQuery answers 409 for a known job id,
    and that job is awaited. A known job that failed is retried under the
    next id (`<job_id>_r1`, ...). An empty file creates the empty table."""
    from google.api_core import exceptions
    from google.cloud import bigquery

    ref = parse_uri(table_uri)
    client = client or process_client(ref.project)
    fields = [bigquery.SchemaField(name, kind) for name, kind in schema]
    if source.stat().st_size == 0:
        client.create_table(bigquery.Table(ref.table_id, schema=fields), exists_ok=True)
        return
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        schema=fields,
        write_disposition=bigquery.WriteDisposition.WRITE_EMPTY,
        create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
    )
    for attempt in range(LOAD_ATTEMPTS):
        attempt_id = job_id if attempt == 0 else f"{job_id}_r{attempt}"
        try:
            with open(source, "rb") as handle:
                job = client.load_table_from_file(
                    handle, ref.table_id, job_config=config, job_id=attempt_id, location=location
                )
        except exceptions.Conflict:
            job = client.get_job(attempt_id, location=location)
            if job.state == "DONE" and job.error_result:
                continue
        except exceptions.BadRequest as exc:
            raise _load_error(ref, exc) from None
        try:
            job.result()
        except exceptions.GoogleAPICallError as exc:
            raise _load_error(ref, exc) from None
        return
    raise BatchspecError(
        f"loading {ref.table_id} failed {LOAD_ATTEMPTS} times", hint="see the load jobs in BigQuery"
    )


def _load_error(ref: BigQueryRef, exc: Exception) -> BatchspecError:
    message = getattr(exc, "message", None) or str(exc)
    return BatchspecError(
        f"BigQuery refused the load into {ref.table_id}: {message}",
        hint="check that the table does not already exist and that the caller has"
        " roles/bigquery.dataEditor on the dataset and roles/bigquery.jobUser on the project",
    )


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
    "TableInfo",
    "TableNotFoundError",
    "cell",
    "check_dataset",
    "describe_table",
    "ensure_dataset",
    "errors_table_for",
    "infer_schema",
    "json_value",
    "load_json_lines",
    "make_client",
    "output_tables",
    "parse_uri",
    "process_client",
    "read_row_values",
    "read_rows",
    "table_rows",
    "timestamp_suffix",
    "write_job_output",
    "write_rows",
]
