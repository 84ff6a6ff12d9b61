"""A reconcile pass with `gs://` outputs and no network: one line, no
traceback, and a SIGTERM honoured while a storage call is waiting.

Before, a pass waited on gcsfs (no request timeout, six attempts) for
minutes and SIGTERM waited for it; here the endpoint is a local server that
accepts and never answers, or a refused port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchspec.io import guard
from batchspec.model.enums import JobState
from batchspec.testing.specs import local_job, write_specs
from tests.io.gcs_outputs import BUCKET, GcsOutputBackend
from tests.io.servers import SilentServer, refused_endpoint

pytest.importorskip("gcsfs")
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def env_for(root: Path, endpoint: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        BATCHSPEC_BACKEND_LOCAL="tests.io.gcs_outputs:backend_from_env",
        FAKE_BACKEND_FILE=str(root / "service.json"),
        BATCHSPEC_STATE=str(root / "state.db"),
        STORAGE_EMULATOR_HOST=endpoint,
        GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT="false",
    )
    env.pop("BATCHSPEC_DEBUG", None)
    env.update(extra)
    return env


def batchspec(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchspec", *args],
        check=False,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def succeeded(tmp_path: Path) -> Iterator[Path]:
    """A job applied, then finished by the service with its outputs on gs://."""
    write_specs(tmp_path / "specs", [local_job("scores")])
    env = env_for(tmp_path, refused_endpoint())
    applied = batchspec(tmp_path, env, "apply", "specs")
    assert applied.returncode == 0, applied.stderr
    service = GcsOutputBackend(tmp_path / "service.json")
    service.advance(3)
    (job,) = service.jobs()
    assert job.state == JobState.SUCCEEDED.value and job.output_location
    yield tmp_path


@pytest.mark.parametrize("server", ["silent", "refused"])
def test_a_pass_fails_fast_with_one_line(succeeded: Path, server: str) -> None:
    with SilentServer() as silent:
        endpoint = silent.endpoint if server == "silent" else refused_endpoint()
        env = env_for(succeeded, endpoint, **{guard.TIMEOUT_ENV: "0.5", guard.RETRIES_ENV: "2"})
        done = batchspec(succeeded, env, "reconcile", "specs", "--once")
    assert done.returncode == 0, done.stderr
    why = "did not answer within 0.5 s" if server == "silent" else "connection refused by"
    lines = [line for line in done.stderr.splitlines() if f"gs://{BUCKET}" in line]
    assert len(lines) == 1, done.stderr
    assert f"scores: output manifest not recorded: gs://{BUCKET}: cannot" in lines[0]
    assert why in lines[0] and endpoint in lines[0]
    assert "Traceback" not in done.stderr and "aiohttp" not in done.stderr


def test_sigterm_is_honoured_while_storage_does_not_answer(succeeded: Path) -> None:
    with SilentServer() as silent:
        # Limits far beyond the test: only the stop can end the waiting call.
        env = env_for(succeeded, silent.endpoint, **{guard.TIMEOUT_ENV: "3600"})
        proc = subprocess.Popen(
            [sys.executable, "-m", "batchspec", "reconcile", "specs", "--interval", "0.05"],
            cwd=succeeded,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert silent.accepted.wait(240), "the pass never reached the storage endpoint"
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert "reconcile stopped; leases released" in err
    assert "Traceback" not in err
