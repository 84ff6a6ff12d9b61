"""A read-only state location and a full disk, on real mounts (issue 11, item 2).

Permissions cannot stand in for either: root writes through any mode bits,
and a full disk is ENOSPC from the kernel, not an exception we raise. So each
scenario runs in user and mount namespaces of its own (`unshare -rm`), with a
read-only bind mount of the state folder (or file) or a small tmpfs that is
really full; the mounts vanish with the namespace. Skipped where unprivileged
namespaces are not allowed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from batchspec.model.enums import JobState
from batchspec.state import StateStore
from batchspec.testing.specs import compiled, local_job, write_specs
from batchspec.testing.state import record_job

REPO = Path(__file__).resolve().parents[2]
NAMES = [f"job_{i:03d}" for i in range(40)]


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None or sys.platform != "linux":
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt || exit 1"],
        check=False,
        capture_output=True,
    )
    return probe.returncode == 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _namespaces_work(), reason="needs unshare -rm and mount"),
]


def in_namespace(mounts: str, scenario: str, root: Path) -> dict[str, Any]:
    """Run a scenario of `mount_scenarios` after `mounts` (shell) in fresh namespaces."""
    script = f'set -e; {mounts}; exec "$@"'
    argv = [sys.executable, "-m", "tests.state.mount_scenarios", scenario, str(root)]
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", *argv],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def assert_clear(run: dict[str, Any], *needles: str) -> None:
    assert run["code"] == 1, run
    assert "internal error" not in run["err"] and "Traceback" not in run["err"], run
    for needle in needles:
        assert needle in run["err"], run


@pytest.fixture
def ro_root(tmp_path: Path) -> Path:
    write_specs(tmp_path / "specs", [local_job(n) for n in NAMES[:3]])
    with StateStore.open(tmp_path / "ro" / "state.db") as store:
        for name in NAMES[:3]:
            record_job(store, compiled(name), state=JobState.RUNNING)
    return tmp_path


def check_read_only(root: Path, runs: list[dict[str, Any]], what: str) -> None:
    status, status_json, plan, history, get, apply, reconcile = runs
    for run in (status, status_json, history, get):
        assert run["code"] == 0, run
    assert "job_000" in status["out"] and "RUNNING" in status["out"]
    assert len(json.loads(status_json["out"])) == 3
    assert len(json.loads(history["out"])["transitions"]) == 3 * 4
    assert plan["code"] in (0, 2), plan
    for writer in (apply, reconcile):
        assert_clear(writer, "cannot write state file", what, "read-only")


def test_a_read_only_state_folder_still_reads_and_writers_fail_clearly(ro_root: Path) -> None:
    before = (ro_root / "ro" / "state.db").read_bytes()
    folder = ro_root / "ro"
    mounts = f"mount --bind {folder} {folder}; mount -o remount,bind,ro {folder}"
    runs = in_namespace(mounts, "read_only", ro_root)["runs"]
    check_read_only(ro_root, runs, "folder")
    assert (folder / "state.db").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["state.db"]


def test_a_read_only_state_file_still_reads_and_writers_fail_clearly(ro_root: Path) -> None:
    state = ro_root / "ro" / "state.db"
    before = state.read_bytes()
    mounts = f"mount --bind {state} {state}; mount -o remount,bind,ro {state}"
    runs = in_namespace(mounts, "read_only", ro_root)["runs"]
    check_read_only(ro_root, runs, "the file")
    assert state.read_bytes() == before


def test_a_full_disk_is_reported_as_such_and_nothing_is_half_written(tmp_path: Path) -> None:
    write_specs(tmp_path / "specs", [local_job(n) for n in NAMES])
    (tmp_path / "full").mkdir()
    mounts = f"mount -t tmpfs -o size=4m tmpfs {tmp_path / 'full'}"
    result = in_namespace(mounts, "disk_full", tmp_path)
    first, full, again = result["runs"]
    assert first["code"] == 0, first
    assert_clear(full, "disk full", "nothing was half-written")
    stopped = result["after_full"]
    assert stopped["integrity"] == ["ok"]
    assert 0 < len(stopped["jobs"]) < len(NAMES), "the disk filled up half-way through"
    recorded = {job_id for job_id, event in stopped["events"] if event == "intent"}
    assert recorded == {job_id for job_id, *_ in stopped["jobs"]}, "a job row without its intent"
    for job_id, _name, phase, remote in stopped["jobs"]:
        submitted = (job_id, "submitted") in {tuple(e) for e in stopped["events"]}
        assert submitted == (phase == "submitted") == (remote is not None)
    # With space again the same apply finishes the run, each job created exactly once.
    assert again["code"] == 0, again
    final = result["final"]
    assert final["integrity"] == ["ok"]
    assert sorted(name for _, name, _, _ in final["jobs"]) == NAMES
    assert result["creates"] == len(NAMES)
    assert sorted(remote for *_, remote in final["jobs"]) == result["remote"]
