"""Shared fixtures: repo paths and a helper that writes spec files."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

# gcsfs reads this when it is first imported; without it every bucket on the
# fake-gcs-server costs a 60 s gRPC timeout through fsspec's registry (batchspec
# itself builds gcsfs's core class and never pays it). Set before any import.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

# fake-gcs-server and bqemulator fixtures, for every test folder.
pytest_plugins = ["tests.emulators"]

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "specs"

VALID_VERTEX = """\
apiVersion: batchspec.dev/v1
kind: BatchPredictionJob
metadata:
  name: scores
spec:
  target: vertex
  project: proj-123456
  region: us-central1
  model:
    resource: projects/proj-123456/locations/us-central1/models/123
  input:
    format: JSONL
    paths:
      - gs://bucket/in/*
  output:
    path: gs://bucket/out/
"""


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text (dedented) to a file under tmp_path and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    return write


def use_file_double(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in this process in `root`, their local backend the
    file-backed double keeping its service in `root/service.json`."""
    monkeypatch.chdir(root)
    monkeypatch.setenv("BATCHSPEC_BACKEND_LOCAL", "batchspec.testing.files:file_backend_from_env")
    monkeypatch.setenv("FAKE_BACKEND_FILE", str(root / "service.json"))
    monkeypatch.setenv("FAKE_BACKEND_OUTPUTS", str(root / "outputs"))
    monkeypatch.setenv("FAKE_BACKEND_AUTO_ADVANCE", "0")
    monkeypatch.delenv("BATCHSPEC_STATE", raising=False)


@pytest.fixture
def state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$BATCHSPEC_STATE in the test's folder: commands that record jobs (`run`,
    `apply`) never write state into the working directory."""
    path = tmp_path / "state.db"
    monkeypatch.setenv("BATCHSPEC_STATE", str(path))
    return path
