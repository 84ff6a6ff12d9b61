"""Two machines, one `gs://` state: real `batchspec` processes against the Cloud
Storage double (which keeps Cloud Storage's preconditions) and the
file-backed service double (shared between processes, *not* idempotent, so
exactly-once rests on batchspec alone).

Faults: two applies at once; kill -9 while holding the lock; kill -9 in the
middle of the state upload (the upload then never commits, or commits
unanswered); someone else writing the state meanwhile; a bucket denied; an
endpoint that does not answer. After each: nothing lost, nothing half
applied, every job created once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from batchspec.state import Phase
from batchspec.testing.gcs import StorageDouble
from batchspec.testing.specs import local_job, write_specs
from tests.remote.conftest import BUCKET, URL

REPO = Path(__file__).resolve().parents[2]
NAMES = [f"job_{i:02d}" for i in range(20)]
LOCK = "prod/state.lock"
STATE = "prod/state.db"
# The env of a writer whose push the double holds: it waits for the held upload
# however long the test takes to start the other writer. With the suite's 5 s
# storage timeout, a loaded machine (the other process slow to start) let the
# client give up on the held request and send it again; the retry, not held,
# committed, so the "held" apply finished and released the lock before the
# other writer ran, which then found nothing to do, or no lock to wait for.
HELD = {"BATCHSPEC_STORAGE_TIMEOUT": "300"}

pytestmark = pytest.mark.slow


def env_for(root: Path, double: StorageDouble, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        BATCHSPEC_BACKEND_LOCAL="batchspec.testing.files:file_backend_from_env",
        FAKE_BACKEND_FILE=str(root / "service.json"),
        FAKE_BACKEND_IDEMPOTENT="0",
        FAKE_BACKEND_AUTO_ADVANCE="0",
        BATCHSPEC_STATE=URL,
        STORAGE_EMULATOR_HOST=double.url,
        BATCHSPEC_STORAGE_TIMEOUT="5",
    )
    for key in ("FAKE_BACKEND_KILL_AT", "FAKE_BACKEND_DELAY", "BATCHSPEC_REMOTE_CACHE"):
        env.pop(key, None)
    env.update(extra)
    return env


def run(
    root: Path, double: StorageDouble, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchspec", *args],
        check=False,
        cwd=root,
        env=env_for(root, double, **extra),
        capture_output=True,
        text=True,
        timeout=180,
    )


def start(root: Path, double: StorageDouble, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "batchspec", *args],
        cwd=root,
        env=env_for(root, double, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll a condition (never a fixed sleep standing in for readiness)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def service(root: Path) -> dict:
    return json.loads((root / "service.json").read_text())


def assert_converged(root: Path, double: StorageDouble, names: list[str] = NAMES) -> None:
    """Each spec's job created once, and the remote state records them all."""
    data = service(root)
    keys = Counter(j["labels"]["batchspec-fp"] for j in data["jobs"].values())
    assert data["creates"] == len(names), f"{data['creates']} jobs created for {len(names)}"
    assert max(keys.values()) == 1
    current = remote_jobs(double)
    assert sorted(current) == names
    assert set(current.values()) == {Phase.SUBMITTED.value}


def remote_jobs(double: StorageDouble) -> dict[str, str]:
    """name -> phase of the current jobs in the live remote state (a whole,
    readable SQLite file: never half written)."""
    raw = double.read(BUCKET, STATE)
    assert raw is not None
    conn = sqlite3.connect(":memory:")
    conn.deserialize(raw)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = conn.execute("SELECT name, phase FROM jobs WHERE disposition = 'current'").fetchall()
    return dict(rows)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_specs(tmp_path / "specs", [local_job(n) for n in NAMES])
    return tmp_path


def test_two_applies_at_once_one_fails_clearly(root: Path, gcs_double: StorageDouble) -> None:
    hold = gcs_double.hold(STATE)  # the first apply stops at its push, lock held
    first = start(root, gcs_double, "apply", "specs", **HELD)
    assert hold.started.wait(120), "the first apply never pushed"
    second = run(root, gcs_double, "apply", "specs")
    assert len(gcs_double.uploads(STATE)) == 1, "the state pushed again while held"
    assert second.returncode == 1, second.stdout + second.stderr
    assert f"remote state {URL} is locked" in second.stderr
    assert "(apply: batchspec apply specs)" in second.stderr and "--lock-timeout" in second.stderr
    hold.release(commit=True)
    out, err = first.communicate(timeout=180)
    assert first.returncode == 0, out + err
    assert_converged(root, gcs_double)
    again = run(root, gcs_double, "apply", "specs")
    assert again.returncode == 0 and "No changes" in again.stdout, again.stderr


def test_a_second_apply_waits_its_turn_with_lock_timeout(
    root: Path, gcs_double: StorageDouble
) -> None:
    hold = gcs_double.hold(STATE)
    first = start(root, gcs_double, "apply", "specs", **HELD)
    assert hold.started.wait(120), "the first apply never pushed"
    second = start(root, gcs_double, "apply", "specs", "--lock-timeout", "150")
    wait_for(lambda: refused_lock_creates(gcs_double), "the second apply to find the lock held")
    hold.release(commit=True)
    out, err = first.communicate(timeout=180)
    assert first.returncode == 0, out + err
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, out + err
    assert "No changes" in out  # it planned against what the first pushed
    assert_converged(root, gcs_double)


def refused_lock_creates(double: StorageDouble) -> int:
    return sum(1 for c in double.uploads(LOCK) if c.status == 412)


def lock_info(root: Path, double: StorageDouble) -> dict:
    found = run(root, double, "state", "lock-info", "-o", "json")
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout)


def test_kill9_while_holding_the_lock(root: Path, gcs_double: StorageDouble) -> None:
    killed = run(
        root,
        gcs_double,
        "apply",
        "specs",
        "--lease-ttl",
        "3",
        FAKE_BACKEND_KILL_AT="submit.created:10",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    wait_for(lambda: lock_info(root, gcs_double)["lock"]["stale"], "the lock to go stale")

    blocked = run(root, gcs_double, "apply", "specs")
    assert blocked.returncode == 1
    assert "stopped renewing the lock" in blocked.stderr
    assert "pid" in blocked.stderr and "held " in blocked.stderr and "expired" in blocked.stderr
    info = lock_info(root, gcs_double)
    assert info["lock"] is not None, "a stale lock is broken only on request"
    assert "batchspec state break-lock" in blocked.stderr and info["lock"]["id"] in blocked.stderr

    broken = run(root, gcs_double, "state", "break-lock", "--id", info["lock"]["id"])
    assert broken.returncode == 0, broken.stderr
    assert "broke the lock" in broken.stdout
    assert "never reached" in broken.stderr  # the killed run's writes, pushed now
    audit = run(root, gcs_double, "history", "--audit", "-o", "json")
    kinds = [a["kind"] for a in json.loads(audit.stdout)["audit"]]
    assert "remote-lock-break" in kinds

    final = run(root, gcs_double, "apply", "specs")
    assert final.returncode == 0, final.stdout + final.stderr
    assert_converged(root, gcs_double)


@pytest.mark.parametrize("commit", [False, True], ids=["upload-lost", "upload-landed"])
def test_kill9_mid_upload(root: Path, gcs_double: StorageDouble, commit: bool) -> None:
    hold = gcs_double.hold(STATE)
    proc = start(root, gcs_double, "apply", "specs", **HELD)
    assert hold.started.wait(120), "the apply never pushed its state"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    hold.release(commit=commit)
    assert hold.done.wait(30)
    if commit:
        assert len(remote_jobs(gcs_double)) == len(NAMES)  # whole, readable
    else:
        assert gcs_double.read(BUCKET, STATE) is None  # nothing half written

    info = lock_info(root, gcs_double)
    assert info["lock"]["pid"] == proc.pid
    broken = run(root, gcs_double, "state", "break-lock", "--id", info["lock"]["id"])
    assert broken.returncode == 0, broken.stderr
    assert ("never reached" in broken.stderr) is not commit
    assert "set the working copy aside" not in broken.stderr
    final = run(root, gcs_double, "apply", "specs")
    assert final.returncode == 0, final.stdout + final.stderr
    assert "No changes" in final.stdout
    assert_converged(root, gcs_double)


def test_someone_else_writing_meanwhile_is_never_overwritten(
    root: Path, gcs_double: StorageDouble
) -> None:
    first_five = NAMES[:5]
    write_specs(root / "few", [local_job(n) for n in first_five])
    assert run(root, gcs_double, "apply", "few").returncode == 0
    # The apply's push is held in the double until the other writer has written:
    # waiting only for the lock let a loaded machine read the state after the
    # foreign write, and then nothing had been overwritten to refuse.
    push = gcs_double.hold(STATE)
    slow = start(root, gcs_double, "apply", "specs", **HELD)
    assert push.started.wait(120), "the apply never pushed its state"
    foreign = foreign_write(root, gcs_double)
    push.release(commit=True)
    out, err = slow.communicate(timeout=180)
    assert slow.returncode == 1, out + err
    assert "changed since this run read it" in err and "run the command again" in err
    assert gcs_double.read(BUCKET, STATE) == foreign  # not overwritten

    again = run(root, gcs_double, "apply", "specs")  # re-reads, plans again
    assert again.returncode == 0, again.stdout + again.stderr
    assert "set the working copy aside" in again.stderr
    assert again.stdout.count("adopted existing job") == len(NAMES) - len(first_five)
    assert_converged(root, gcs_double)
    audit = run(root, gcs_double, "history", "--audit", "-o", "json")
    assert "foreign-write" in [a["kind"] for a in json.loads(audit.stdout)["audit"]]


def foreign_write(root: Path, double: StorageDouble) -> bytes:
    """Another writer's push: the live state plus one audit entry, guarded by the
    generation it read (as batchspec on another machine would write it)."""
    from google.cloud import storage

    from batchspec.state.store import StateStore

    blob = storage.Client().bucket(BUCKET).get_blob(STATE)
    path = root / "foreign.db"
    blob.download_to_filename(str(path))
    with StateStore.open(path) as store:
        store.log_audit("foreign-write", "written on another machine", actor="elsewhere")
    data = path.read_bytes()
    storage.Client().bucket(BUCKET).blob(STATE).upload_from_string(
        data, if_generation_match=blob.generation
    )
    return data


def test_denied_bucket_is_one_clear_error(root: Path, gcs_double: StorageDouble) -> None:
    gcs_double.deny(BUCKET)
    for command in (["status"], ["apply", "specs"]):
        found = run(root, gcs_double, *command)
        assert found.returncode == 1
        assert f"permission denied on bucket gs://{BUCKET}" in found.stderr
        assert "roles/storage.objectUser" in found.stderr
        assert "Traceback" not in found.stderr
    assert service_untouched(root)


def test_unreachable_storage_is_one_clear_error(root: Path, gcs_double: StorageDouble) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    found = run(
        root,
        gcs_double,
        "apply",
        "specs",
        STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{port}",
        BATCHSPEC_STORAGE_TIMEOUT="1",
        BATCHSPEC_STORAGE_RETRIES="1",
    )
    assert found.returncode == 1
    assert f"did not answer for bucket gs://{BUCKET}" in found.stderr
    assert "Traceback" not in found.stderr
    assert service_untouched(root)


def service_untouched(root: Path) -> bool:
    path = root / "service.json"
    return not path.exists() or service(root)["creates"] == 0
