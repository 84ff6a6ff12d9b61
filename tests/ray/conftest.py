"""A real local Ray cluster for the tests in this folder, started once per
test run (shared by xdist workers through `tests.ray.cluster`) and always
stopped. The tests are skipped, with the reason, only when ray cannot be
imported."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchspec.raycluster.localcluster import CLIENT_ENV

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0
STOP_WAIT = 40.0


def _ray_importable() -> bool:
    try:
        import ray.job_submission  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _launcher_alive(info: Path) -> bool:
    try:
        pid = int(json.loads(info.read_text())["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError):
        return False
    return True


def _wait_for_info(info: Path, launcher: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if info.exists():
            data = json.loads(info.read_text())
            if "error" in data:
                raise RuntimeError(f"the test Ray cluster did not start: {data['error']}")
            return str(data["address"])
        if launcher.poll() is not None:
            raise RuntimeError(f"the test Ray cluster launcher exited ({launcher.returncode})")
        time.sleep(0.2)
    raise RuntimeError("the test Ray cluster did not start in time")


@pytest.fixture(scope="session")
def ray_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Jobs API address of the run's shared local cluster."""
    if not _ray_importable():
        pytest.skip("ray is not installed (pip install 'batchspec[ray]')")
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = root / "ray-cluster"
    (root / "leases").mkdir(parents=True, exist_ok=True)
    lease = root / "leases" / str(os.getpid())
    info = root / "cluster.json"
    saved = {k: os.environ.get(k) for k in CLIENT_ENV}
    os.environ.update(CLIENT_ENV)
    launcher: subprocess.Popen[bytes] | None = None
    try:
        with _locked(root / "lock"):
            lease.touch()
            if not (info.exists() and _launcher_alive(info)):
                info.unlink(missing_ok=True)
                with open(root / "launcher.log", "ab") as log:
                    launcher = subprocess.Popen(
                        [sys.executable, "-m", "tests.ray.cluster", str(root)],
                        cwd=REPO,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                address = _wait_for_info(info, launcher)
            else:
                address = str(json.loads(info.read_text())["address"])
        yield address
    finally:
        lease.unlink(missing_ok=True)
        with _locked(root / "lock"):
            last = not any((root / "leases").iterdir())
        if last and launcher is not None:  # ours, and nobody else uses it: see it stop
            try:
                launcher.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                launcher.kill()
                launcher.wait()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(autouse=True)
def _state(state_in_tmp: Path) -> None:
    """`batchspec run` records its job: in the test's folder."""
