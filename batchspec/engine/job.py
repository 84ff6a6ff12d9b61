"""A job as the engine runs it: the spec from the job record, with every
relative path resolved against the spec file's folder, and a BigQuery
destination resolved to the tables it will create."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from batchspec.engine.errors import ModelLoadError, OutputError
from batchspec.io import bigquery, storage
from batchspec.io.bigquery import OutputTables
from batchspec.model.enums import DataFormat
from batchspec.model.spec import BatchPredictionJobSpec, JobSpec, LocalModel


@dataclass(frozen=True)
class EngineJob:
    """Everything the supervisor needs to know about a job.

    `output` is a folder (path or URL) or, for a BigQuery destination, the
    predictions table's `bq://` URL (as Vertex AI reports it in outputInfo);
    `output_tables` then names both tables."""

    id: str
    name: str
    fingerprint: str
    spec: BatchPredictionJobSpec
    spec_dir: Path
    inputs: tuple[str, ...]
    output: str
    output_tables: OutputTables | None = None

    @property
    def effective(self) -> JobSpec:
        """The `spec:` block the engine runs: the local body is the effective
        spec of the compiled job (`CompiledJob.effective`), defaults filled in."""
        return self.spec.spec

    @property
    def model(self) -> LocalModel:
        """The local model (validated to exist)."""
        model = self.effective.model.local
        assert model is not None
        return model

    @property
    def reads_table(self) -> bool:
        """True when the input is a BigQuery table."""
        return self.effective.input.format is DataFormat.BIGQUERY

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> EngineJob:
        """Build from a job.json record (`LocalBackend._record`).

        Raises a BatchspecError for what can never run (no local model, a
        malformed bq:// URL), so submitting refuses it at once."""
        spec = BatchPredictionJobSpec.model_validate(record["body"])
        spec_dir = Path(record["specDir"])
        settings = spec.spec
        inp, out = settings.input, settings.output
        if settings.model.local is None:
            raise ModelLoadError(
                f"job {spec.name} names no local model (`model.local`), so the local engine"
                " cannot run it",
                hint="add `model.local` (a python, sklearn, onnx, http or command runner), or"
                " run the spec on its cloud target",
            )
        if inp.bigquery is not None:
            bigquery.parse_uri(inp.bigquery).table_id  # noqa: B018 - raises unless a table
            inputs: tuple[str, ...] = (inp.bigquery,)
        else:
            inputs = tuple(storage.resolve(p, spec_dir) for p in inp.paths or ())
        tables = None
        if out.bigquery is not None:
            # Vertex names the tables after the job's creation; so does the
            # engine, from the record, so a resumed job finds the same tables.
            created = datetime.fromisoformat(record["createTime"].replace("Z", "+00:00"))
            tables = bigquery.output_tables(out.bigquery, name=spec.name, when=created)
            output = tables.predictions_uri
        elif out.path is not None:
            output = storage.resolve(out.path, spec_dir).rstrip("/")
        else:
            raise OutputError(f"job {spec.name} names no output (`output.path` or `bigquery`)")
        return cls(
            id=record["id"],
            name=spec.name,
            fingerprint=record["fingerprint"],
            spec=spec,
            spec_dir=spec_dir,
            inputs=inputs,
            output=output,
            output_tables=tables,
        )


def spec_dir_of(source: Path | None) -> Path:
    """The folder relative paths start from: the spec file's, else the cwd."""
    if source is None:
        return Path.cwd()
    return Path(source).resolve().parent
