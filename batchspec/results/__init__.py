"""Reading batch prediction outputs back, and joining them to their inputs.

    records = read_results(backend.outputs(remote_name))      # or a folder / bq:// table
    joined = join_inputs(records, read_instances(spec_paths), key_field="id")

Reads Vertex AI (`predictions_*`, `errors_*`), ML Engine and the local engine
(`prediction.results-*`, `prediction.errors_stats-*`, including the tuple
lines), from local paths, `gs://` and BigQuery, checking them against the
engine's manifest and counting every line that is not a record
(`check.OutputCheck`). A library: `batchspec results` is the CLI on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from batchspec.results.check import Damage, DamagedOutputError, OutputCheck
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
    output_format: str | None = None,
    bigquery_client: Any = None,
    check: OutputCheck | None = None,
) -> Iterator[JoinedRecord]:
    """A job's outputs joined to its inputs (or, without inputs, as they are).

    Damaged outputs are reported to `check` (or raise `DamagedOutputError`
    after the last record when there is none)."""
    records = read_results(
        outputs, bigquery_client=bigquery_client, output_format=output_format, check=check
    )
    if inputs is None:
        for r in records:
            outcome = Outcome.FAILED if r.error is not None else Outcome.PREDICTED
            key = output_key(r, key_field)
            yield JoinedRecord(key, r.instance, r.prediction, r.error, outcome, r.source)
        return
    instances = read_instances(inputs, data_format=data_format, bigquery_client=bigquery_client)
    yield from join_inputs(records, instances, key_field=key_field)


__all__ = [
    "Damage",
    "DamagedOutputError",
    "FileKind",
    "JoinedRecord",
    "Outcome",
    "OutputCheck",
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
