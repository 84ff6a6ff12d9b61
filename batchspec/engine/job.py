"""A job as the engine runs it: the spec from the job record, with every
relative path resolved against the spec file's folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchspec.engine import paths
from batchspec.engine.errors import InputError, ModelLoadError, OutputError
from batchspec.model.spec import BatchPredictionJobSpec, LocalModel


@dataclass(frozen=True)
class EngineJob:
    """Everything the supervisor needs to know about a job."""

    id: str
    name: str
    fingerprint: str
    spec: BatchPredictionJobSpec
    spec_dir: Path
    inputs: tuple[str, ...]
    output: str

    @property
    def model(self) -> LocalModel:
        """The local model (validated to exist)."""
        model = self.spec.spec.model.local
        assert model is not None
        return model

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> EngineJob:
        """Build from a job.json record (see `job_record`)."""
        spec = BatchPredictionJobSpec.model_validate(record["body"])
        spec_dir = Path(record["specDir"])
        inp, out = spec.spec.input, spec.spec.output
        if spec.spec.model.local is None:
            raise ModelLoadError(
                f"job {spec.name} names no local model (`model.local`), so the local engine"
                " cannot run it",
                hint="add `model.local` (a python, sklearn, onnx, http or command runner), or"
                " run the spec on its cloud target",
            )
        if inp.paths is None:
            raise InputError(
                f"job {spec.name} reads from BigQuery ({inp.bigquery}); the local engine reads"
                " files",
                hint="BigQuery sources come with the cloud backends (pip install"
                " 'batchspec[bigquery]'); export the table to files to run locally",
            )
        if out.path is None:
            raise OutputError(
                f"job {spec.name} writes to BigQuery ({out.bigquery}); the local engine writes"
                " files",
                hint="set `output.path` to a folder to run locally",
            )
        return cls(
            id=record["id"],
            name=spec.name,
            fingerprint=record["fingerprint"],
            spec=spec,
            spec_dir=spec_dir,
            inputs=tuple(paths.resolve(p, spec_dir) for p in inp.paths),
            output=paths.resolve(out.path, spec_dir).rstrip("/"),
        )


def spec_dir_of(source: Path | None) -> Path:
    """The folder relative paths start from: the spec file's, else the cwd."""
    if source is None:
        return Path.cwd()
    return Path(source).resolve().parent
