"""A BigQuery destination for the local engine, laid out as Vertex AI lays it out.

`output.bigquery: bq://project` gets a new dataset
`prediction_<job>_<timestamp>` with tables `predictions` and `errors`;
`bq://project.dataset` gets `predictions_<timestamp>` and `errors_<timestamp>`
in that existing dataset. The timestamp is the job's creation time, kept in
its record, so a resumed job writes the same tables (`EngineJob.from_record`).

What BigQuery allows, and so what the engine guarantees:

* A shard cannot be published into a table on its own without the table
  being half-visible (rows of some shards and not others). So shards are
  published as files in the job folder (`<job>/output/`, the same
  `prediction.results-*` / `prediction.errors_stats-*` files and atomic
  renames as a local output folder), and when the job ends SUCCEEDED or
  PARTIALLY_SUCCEEDED each table is created from them by **one load job**,
  which is atomic: the table appears with every row or not at all. The errors
  table is loaded first and the predictions table last, so a predictions
  table (what `outputInfo`-style output points at) means the job's output is
  complete.
* A resume never duplicates rows: a load runs under WRITE_EMPTY and a job id
  derived from the job and the table (a repeated load adopts the one already
  started), and a table already holding exactly the job's row count counts as
  done. A table holding anything else is refused.
* A job that FAILS (error budget, a model that broke) or is CANCELLED writes
  no tables: its shard files stay in `<job>/output/` for inspection.
* The engine's JSON result lines become rows: with a keyField, columns `key`
  and `prediction`; without, the instance's columns (an object's fields; any
  other instance as one `instance` column) and `prediction`. Error rows carry
  the same columns and `errors` = {code, message} (a google.rpc code number,
  `batchspec.rpc`).
  Nested values are JSON text in STRING columns, as `batchspec.io.bigquery`
  writes them everywhere (Vertex writes STRUCTs); `batchspec.results` reads
  both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from batchspec.engine.errors import OutputError
from batchspec.engine.output import LocalStore
from batchspec.io import bigquery
from batchspec.io.bigquery import OutputTables
from batchspec.results.formats import ERRORS_STATS_PREFIX, RESULTS_PREFIX
from batchspec.rpc import code_number

_JOB_ID_BAD = re.compile(r"[^A-Za-z0-9_-]")

Row = dict[str, Any]


def _ident(line: dict[str, Any]) -> Row:
    """The columns that name an instance: `key`, the instance's fields, or `instance`."""
    if "key" in line:
        return {"key": line["key"]}
    instance = line.get("instance")
    if isinstance(instance, dict):
        return dict(instance)
    return {"instance": instance}


def prediction_row(line: dict[str, Any]) -> Row:
    """A results line `{"key"|"instance": ..., "prediction": ...}` as a table row."""
    return {**_ident(line), "prediction": line.get("prediction")}


def error_row(line: dict[str, Any]) -> Row:
    """An errors line `{..., "error": {"status", "message"}}` as a table row."""
    error = line.get("error") or {}
    code = code_number(error.get("status", error.get("code")))
    return {**_ident(line), "errors": {"code": code, "message": error.get("message", "")}}


def _lines(files: Iterable[Path]) -> Iterator[dict[str, Any]]:
    decode = msgspec.json.Decoder().decode
    for path in files:
        with open(path, "rb") as handle:
            for line in handle:
                if line.strip():
                    yield decode(line)


def write_load_file(
    files: list[Path], target: Path, to_row: Callable[[dict[str, Any]], Row], empty: str
) -> list[tuple[str, str]]:
    """Turn shard files into one JSON-lines file a load job accepts, and
    return its schema. Two passes over the files (schema, then rows), so
    memory stays flat however large the output is."""
    schema = bigquery.infer_schema(to_row(line) for line in _lines(files)) or [(empty, "STRING")]
    kinds = dict(schema)
    encode = msgspec.json.Encoder().encode
    with open(target, "wb") as out:
        for line in _lines(files):
            row = to_row(line)
            out.write(encode({k: bigquery.cell(v, kinds[k]) for k, v in row.items()}) + b"\n")
    return schema


@dataclass(frozen=True)
class BigQueryStore:
    """Shards as files in the job folder; tables loaded from them at the end."""

    tables: OutputTables
    folder: str
    job_id: str

    @property
    def location(self) -> str:
        """The predictions table's URL."""
        return self.tables.predictions_uri

    @property
    def _files(self) -> LocalStore:
        return LocalStore(self.folder)

    def _client(self) -> Any:
        return bigquery.process_client(self.tables.project)

    def prepare(self) -> None:
        """Make the shard folder; check BigQuery answers and the dataset exists
        (before any model runs)."""
        self._files.prepare()
        bigquery.check_dataset(self._client(), self.tables)

    def existing(self) -> list[str]:
        """Result files already in the shard folder, and the job's tables if
        they exist (they never should before the job ran)."""
        tables = [
            uri
            for uri in (self.tables.predictions_uri, self.tables.errors_uri)
            if bigquery.table_rows(uri, client=self._client()) is not None
        ]
        return [*self._files.existing(), *tables]

    def remove(self, names: list[str]) -> None:
        """Delete result files and tables (for `overwrite: true`)."""
        tables = [n for n in names if n.startswith(bigquery.SCHEME)]
        self._files.remove([n for n in names if n not in tables])
        client = self._client()
        for uri in tables:
            with bigquery.api_errors(f"deleting BigQuery table {uri}"):
                client.delete_table(bigquery.parse_uri(uri).table_id, not_found_ok=True)

    def staging_file(self, name: str) -> Path:
        """A staging path in the shard folder."""
        return self._files.staging_file(name)

    def publish(self, staged: Path, name: str) -> None:
        """Rename a complete shard file into the shard folder."""
        self._files.publish(staged, name)

    def size(self, name: str) -> int | None:
        """Size of a published shard file."""
        return self._files.size(name)

    def clear_staging(self) -> None:
        """Remove leftovers of interrupted shards."""
        self._files.clear_staging()

    def drop_empty_staging(self) -> None:
        """Remove an empty staging folder."""
        self._files.drop_empty_staging()

    def url(self, name: str) -> str:
        """Where a shard file is (in the job folder)."""
        return self._files.url(name)

    def commit(self, names: list[str], completed: int, failed: int) -> None:
        """Load the tables from the published shard files (see the module
        docstring: errors first, predictions last; each at most once)."""
        client = self._client()
        with bigquery.api_errors(f"creating BigQuery dataset {self.tables.dataset_uri}"):
            bigquery.ensure_dataset(client, self.tables)
        folder = Path(self.folder)
        for uri, prefix, expected, to_row, empty in (
            (self.tables.errors_uri, ERRORS_STATS_PREFIX, failed, error_row, "errors"),
            (self.tables.predictions_uri, RESULTS_PREFIX, completed, prediction_row, "prediction"),
        ):
            rows = bigquery.table_rows(uri, client=client)
            if rows == expected:
                continue  # loaded before an interruption
            if rows is not None:
                raise OutputError(
                    f"BigQuery table {uri} already exists with {rows} rows; this job has"
                    f" {expected}",
                    hint="another job wrote it: choose another `output.bigquery`, or delete"
                    " the table and resume the job",
                )
            files = [folder / n for n in names if n.startswith(prefix)]
            staged = self.staging_file(f"{uri.rsplit('.', 1)[-1]}.jsonl")
            try:
                schema = write_load_file(files, staged, to_row, empty)
                bigquery.load_json_lines(
                    uri, staged, schema, job_id=self._load_id(uri), client=client
                )
            finally:
                staged.unlink(missing_ok=True)

    def _load_id(self, uri: str) -> str:
        """`batchspec_<job>_<table>`: the same load for the same job and table."""
        return _JOB_ID_BAD.sub("_", f"batchspec_{self.job_id}_{uri.rsplit('.', 1)[-1]}")[:1024]

    def outputs(self, names: list[str]) -> list[str]:
        """The job's tables that exist: predictions, then errors."""
        return [
            uri
            for uri in (self.tables.predictions_uri, self.tables.errors_uri)
            if bigquery.table_rows(uri, client=self._client()) is not None
        ]
