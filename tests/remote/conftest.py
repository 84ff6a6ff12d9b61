"""Fixtures for remote state: the Cloud Storage double (generations, 412s,
versions) with a bucket, and STORAGE_EMULATOR_HOST pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchspec.testing.gcs import StorageDouble

BUCKET = "team-state"
URL = f"gs://{BUCKET}/prod"


@pytest.fixture
def gcs_double(monkeypatch: pytest.MonkeyPatch) -> Iterator[StorageDouble]:
    """The double with an empty bucket `team-state` (versioning off)."""
    pytest.importorskip("google.cloud.storage")
    double = StorageDouble().start()
    double.create_bucket(BUCKET)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", double.url)
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder of its own (the working copy lives under .batchspec/)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BATCHSPEC_STATE", raising=False)
    monkeypatch.delenv("BATCHSPEC_REMOTE_CACHE", raising=False)
    return tmp_path
