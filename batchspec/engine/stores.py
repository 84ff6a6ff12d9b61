"""Which output store a job writes to: a local folder, an fsspec URL
(`gs://...`), or BigQuery tables loaded from files kept in the job folder.

The factory sits above the stores (`output`, `tables`) so that none of them
needs to know the others."""

from __future__ import annotations

from pathlib import Path

from batchspec.engine.job import EngineJob
from batchspec.engine.output import FsspecStore, LocalStore, OutputStore
from batchspec.io import storage


def make_store(job: EngineJob, job_dir: Path) -> OutputStore:
    """The store for a job's output location (BigQuery's client loads only
    for a BigQuery destination)."""
    if job.output_tables is not None:
        from batchspec.engine.tables import BigQueryStore

        return BigQueryStore(job.output_tables, str(job_dir / "output"), job_dir.name)
    if storage.is_url(job.output):
        return FsspecStore(job.output, str(job_dir / "staging"))
    return LocalStore(job.output)
