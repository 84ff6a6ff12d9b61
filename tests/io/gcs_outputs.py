"""A file-backed service double whose jobs write their outputs to `gs://`.

For `BATCHSPEC_BACKEND_LOCAL=tests.io.gcs_outputs:backend_from_env`: the
controller sees a job succeed with its outputs in `gs://acme-out/<job>/`, and
reading them goes to whatever STORAGE_EMULATOR_HOST names (a silent server,
a refused port)."""

from __future__ import annotations

import os
from pathlib import Path

from batchspec.testing.files import FileBackend
from batchspec.testing.service import FakeJob

BUCKET = "acme-out"


class GcsOutputBackend(FileBackend):
    """FileBackend whose succeeded jobs report `gs://` outputs (none written)."""

    def _write_outputs(self, job: FakeJob) -> None:
        job.output_location = f"gs://{BUCKET}/{job.remote_name}"


def backend_from_env() -> GcsOutputBackend:
    """The double on the service file named by FAKE_BACKEND_FILE."""
    return GcsOutputBackend(Path(os.environ["FAKE_BACKEND_FILE"]), auto_advance=False)
