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

The package is split by what a caller needs: `client` (URLs, clients, the
error mapping), `read` (rows out of a table), `layout` (Vertex's names for the
output tables and the schema of the rows, no client) and `write` (inserts and
load jobs). Everything is re-exported here, so callers import
`batchspec.io.bigquery` and never a submodule.
"""

from __future__ import annotations

from batchspec.io.bigquery.client import (
    SCHEME,
    BigQueryRef,
    TableNotFoundError,
    api_errors,
    make_client,
    parse_uri,
    process_client,
)
from batchspec.io.bigquery.layout import (
    OutputTables,
    cell,
    errors_table_for,
    infer_schema,
    output_tables,
    timestamp_suffix,
)
from batchspec.io.bigquery.read import (
    TableInfo,
    describe_table,
    json_value,
    read_row_values,
    read_rows,
    table_rows,
)
from batchspec.io.bigquery.write import (
    check_dataset,
    ensure_dataset,
    load_json_lines,
    write_job_output,
    write_rows,
)

__all__ = [
    "SCHEME",
    "BigQueryRef",
    "OutputTables",
    "TableInfo",
    "TableNotFoundError",
    "api_errors",
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
