"""Reading batch prediction outputs back, and joining them to their inputs.

    records = read_results(backend.outputs(remote_name))      # or a folder / bq:// table
    joined = join_inputs(records, read_instances(spec_paths), key_field="id")

Reads Vertex AI (`predictions_*`, `errors_*`), ML Engine and the local engine
(`prediction.results-*`, `prediction.errors_stats-*`, including the tuple
lines), from local paths, `gs://` and BigQuery. A library: `batchspec results`
is the CLI on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from batchspec.results.formats import FileKind, file_kind
from batchspec.results.inputs import read_instances
from batchspec.results.join import join_inputs, output_key, summarize
from batchspec.results.read import output_files, read_file, read_results, read_table
from batchspec.results.records import JoinedRecord, Outcome, ResultError, ResultRecord


def job_results(
    outputs: str | Iterable[str],
    *,
    inputs: str | Iterable[str] | None = None,
    key_field: str | None = None,
    data_format: str = "JSONL",
    bigquery_client: Any = None,
) -> Iterator[JoinedRecord]:
    """A job's outputs joined to its inputs (or, without inputs, as they are)."""
    records = read_results(outputs, bigquery_client=bigquery_client)
    if inputs is None:
        for r in records:
            outcome = Outcome.FAILED if r.error is not None else Outcome.PREDICTED
            key = output_key(r, key_field)
            yield JoinedRecord(key, r.instance, r.prediction, r.error, outcome, r.source)
        return
    instances = read_instances(inputs, data_format=data_format, bigquery_client=bigquery_client)
    yield from join_inputs(records, instances, key_field=key_field)


__all__ = [
    "FileKind",
    "JoinedRecord",
    "Outcome",
    "ResultError",
    "ResultRecord",
    "file_kind",
    "job_results",
    "join_inputs",
    "output_files",
    "read_file",
    "read_instances",
    "read_results",
    "read_table",
    "summarize",
]
