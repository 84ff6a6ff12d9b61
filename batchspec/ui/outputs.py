"""A job's outputs for its page: where they are, the files, a sample, the plots.

Result files never change once published, so a sample is cached by the
files' names, sizes and modification times: a page polled every second
reads the outputs once. Outputs outside this machine (`gs://`, `bq://`) are
named with the command that reads them, not read: the pages make no remote
calls on their own.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from batchspec.errors import BatchspecError
from batchspec.state.records import JobRecord
from batchspec.ui.live import LiveView, RunLog
from batchspec.ui.plots import Figure, job_figures
from batchspec.ui.samples import OutputFile, ResultSample, is_local, list_outputs, sample_results

CACHE_SIZE = 64


@dataclass
class JobOutputs:
    """What the page shows about a job's outputs."""

    location: str | None
    local: bool
    files: list[OutputFile] = field(default_factory=list)
    sample: ResultSample | None = None
    log: RunLog | None = None
    problem: str | None = None
    figures: list[Figure] = field(default_factory=list)

    def figures_json(self) -> list[dict[str, Any]]:
        """The figures as the page's script draws them."""
        return [f.to_json() for f in self.figures]


class SampleCache:
    """Samples by the identity of the files they were read from (LRU; shared
    by the server's worker threads, so the table is locked, not the reads)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], ResultSample] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, files: list[OutputFile]) -> ResultSample:
        """The sample of `files`, read now unless an identical set was read before."""
        key = tuple(_identity(f.path) for f in files)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        sample = sample_results(files)
        with self._lock:
            self._items[key] = sample
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return sample


def _identity(path: str) -> tuple[str, int, int]:
    with contextlib.suppress(OSError):
        st = os.stat(path.removeprefix("file://"))
        return (path, st.st_size, st.st_mtime_ns)
    return (path, -1, -1)


def job_outputs(
    record: JobRecord, runs: list[JobRecord], live: LiveView, cache: SampleCache
) -> JobOutputs:
    """Files, sample, run log and plots of one job (reads files only)."""
    location = record.output_location
    out = JobOutputs(location=location, local=bool(location and is_local(location)))
    locations = live.outputs(record)
    if locations is None and out.local and location:
        locations = [location]
    if locations:
        try:
            out.files = list_outputs(locations)
        except BatchspecError as exc:  # nothing published yet
            out.problem = exc.message
    if out.files:
        out.sample = cache.get(out.files)
    out.log = live.run_log(record)
    out.figures = job_figures(out.sample, out.log, runs)
    return out
