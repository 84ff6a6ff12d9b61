"""Writing one job's rows to BigQuery: streaming inserts or one load job.

`write_rows` (streaming inserts) serves small outputs and the tests' service
double; `load_json_lines` (one atomic load job with a deterministic job id)
serves the local engine, so a table appears whole, at most once. Both create
the table with the schema `layout` infers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from batchspec.errors import BatchspecError
from batchspec.io.bigquery.client import (
    BigQueryRef,
    api_errors,
    make_client,
    parse_uri,
    process_client,
)
from batchspec.io.bigquery.layout import OutputTables, cell, infer_schema, output_tables

INSERT_CHUNK = 500
LOAD_ATTEMPTS = 5


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
