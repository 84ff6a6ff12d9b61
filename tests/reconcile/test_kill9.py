"""Real processes, real SIGKILL: apply and reconcile of 50 jobs, killed, restarted.

`batchspec` runs as a subprocess against the file-backed double (a service
shared between processes, created jobs survive the client's death). The
double is *not* idempotent, so exactly-once rests on batchspec alone. The
double sends SIGKILL to its own process at a chosen call: before a create,
right after a create (before batchspec could record it), at a list page. A
few runs are also killed from outside at random times. After every kill the
next run must converge: 50 jobs, each created once, all recorded.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from batchspec.state import Phase, StateStore
from batchspec.testing.process import Child, double_env, wait_until
from batchspec.testing.specs import local_job, write_specs

NAMES = [f"job_{i:02d}" for i in range(50)]

pytestmark = pytest.mark.slow


def env_for(root: Path, **extra: str) -> dict[str, str]:
    settings = {
        "FAKE_BACKEND_IDEMPOTENT": "0",
        "FAKE_BACKEND_AUTO_ADVANCE": "0",
        "FAKE_BACKEND_PAGE_SIZE": "7",
        "BATCHSPEC_STATE": str(root / "state.db"),
    }
    return double_env(root, **{**settings, **extra})


def batchspec(root: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchspec", *args],
        check=False,
        cwd=root,
        env=env_for(root, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def service(root: Path) -> dict:
    return json.loads((root / "service.json").read_text())


def assert_converged(root: Path) -> None:
    data = service(root)
    assert data["creates"] == 50, f"{data['creates']} jobs created for 50 specs"
    keys = Counter(j["labels"]["batchspec-fp"] for j in data["jobs"].values())
    assert max(keys.values()) == 1
    with StateStore.open(root / "state.db") as store:
        current = store.current_jobs()
        assert sorted(current) == NAMES
        assert {r.phase for r in current.values()} == {Phase.SUBMITTED}
        assert {r.remote_name for r in current.values()} == set(data["jobs"])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_specs(tmp_path / "specs", [local_job(n) for n in NAMES])
    return tmp_path


KILL_POINTS = [
    "submit:1",
    "submit:26",
    "submit.created:1",
    "submit.created:25",
    "submit.created:50",
    "list:1",
]


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_apply_killed_then_rerun_converges_exactly_once(root: Path, kill_at: str) -> None:
    killed = batchspec(root, "apply", "specs", FAKE_BACKEND_KILL_AT=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = batchspec(root, "apply", "specs")
    assert again.returncode == 0, again.stdout + again.stderr
    assert_converged(root)
    assert batchspec(root, "plan", "specs").returncode == 0


def created(root: Path) -> int:
    """Jobs the shared service has created so far (0 before the first create)."""
    path = root / "service.json"
    return int(json.loads(path.read_text())["creates"]) if path.exists() else 0


@pytest.mark.parametrize("kill_at", ["create:1", "create.created:1", "create.created:50"])
def test_apply_on_the_create_path_killed_then_rerun_converges(root: Path, kill_at: str) -> None:
    """A backend that creates without a look-up (as Vertex AI's does, after
    apply's one listing): killed before or right after a create."""
    killed = batchspec(
        root, "apply", "specs", FAKE_BACKEND_KILL_AT=kill_at, FAKE_BACKEND_LISTING="1"
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = batchspec(root, "apply", "specs", FAKE_BACKEND_LISTING="1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert_converged(root)
    assert service(root)["calls"].get("submit", 0) == 0


def test_apply_killed_from_outside_at_random_times(root: Path) -> None:
    # "Random times" are random points in the run (after the k-th create seen from
    # outside), not random sleeps: a loaded machine must not turn them into a kill
    # before the run even started.
    rng = random.Random(5)
    for _ in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-m", "batchspec", "apply", "specs"],
            cwd=root,
            env=env_for(root, FAKE_BACKEND_DELAY="0.01"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        target = min(50, created(root) + rng.randint(1, 12))
        wait_until(
            lambda t=target, p=proc: created(root) >= t or p.poll() is not None,  # type: ignore[misc]
            timeout=120,
            what=f"{target} creates",
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = batchspec(root, "apply", "specs")
    assert final.returncode == 0, final.stderr
    assert_converged(root)


@pytest.mark.parametrize("kill_at", ["submit.created:10", "list:3", "submit:40"])
def test_reconcile_killed_then_restarted_converges(root: Path, kill_at: str) -> None:
    loop = [
        "reconcile",
        "specs",
        "--interval",
        "0.01",
        "--max-interval",
        "0.05",
        "--max-running",
        "0",
    ]
    killed = batchspec(root, *loop, FAKE_BACKEND_KILL_AT=kill_at, FAKE_BACKEND_AUTO_ADVANCE="1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    for _ in range(10):
        done = batchspec(root, *loop, "--once", FAKE_BACKEND_AUTO_ADVANCE="1")
        assert done.returncode == 0, done.stderr
        states = {j["state"] for j in service(root)["jobs"].values()}
        if states == {"SUCCEEDED"} and len(service(root)["jobs"]) == 50:
            break
    assert_converged(root)
    with StateStore.open(root / "state.db") as store:
        finished = {r.state.value for r in store.current_jobs().values() if r.state}
    assert finished <= {"SUCCEEDED", "RUNNING", "QUEUED"}


def test_reconcile_stops_cleanly_on_sigterm(root: Path) -> None:
    argv = [sys.executable, "-m", "batchspec", "reconcile", "specs", "--interval", "0.05"]
    with Child(argv, cwd=root, env=env_for(root, FAKE_BACKEND_DELAY="0.02")) as proc:
        proc.wait_for_err(r"^controller ready: ")  # handlers installed, lease held
        wait_until(lambda: created(root) >= 1, timeout=120, what="the first submit")
        proc.proc.send_signal(signal.SIGTERM)  # in the middle of the first pass
        code, _out, err = proc.finish(timeout=60)
    assert code == 0, err
    assert "leases released" in err
    with StateStore.open(root / "state.db") as store:
        assert store.connection.execute("SELECT count(*) FROM lease").fetchone()[0] == 0
        assert not [r for r in store.current_jobs().values() if r.in_doubt]
    assert batchspec(root, "apply", "specs").returncode == 0
    assert_converged(root)


def test_two_applies_at_once_one_fails_clearly(root: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "batchspec", "apply", "specs"],
            cwd=root,
            env=env_for(root, FAKE_BACKEND_DELAY="0.02"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    [(_, _, err)] = [r for r in results if r[0] == 1]
    assert "is locked: writer lease held by" in err and "batchspec apply" in err
    assert_converged(root)


def test_two_applies_at_once_the_second_waits_with_lock_timeout(root: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "batchspec", "apply", "specs", "--lock-timeout", "60"],
            cwd=root,
            env=env_for(root, FAKE_BACKEND_DELAY="0.02"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    outs = [out for out, _ in results]
    assert [p.returncode for p in procs] == [0, 0], results
    assert sorted("No changes." in out for out in outs) == [False, True]
    assert_converged(root)


def test_apply_next_to_a_running_controller(root: Path) -> None:
    argv = [sys.executable, "-m", "batchspec", "reconcile", "specs", "--interval", "0.2"]
    argv += ["--max-interval", "0.5", "--select", "job_0*"]
    with Child(argv, cwd=root, env=env_for(root, FAKE_BACKEND_DELAY="0.005")) as controller:
        controller.wait_for_err(r"^controller ready: ")
        controller.wait_for_out(r" pass 1: ")  # its first jobs are submitted
        applied = batchspec(root, "apply", "specs", "--lock-timeout", "60")
        assert applied.returncode == 0, applied.stderr
        second = batchspec(root, "reconcile", "specs", "--once")
        assert second.returncode == 1 and "another controller is running" in second.stderr
        controller.proc.send_signal(signal.SIGTERM)
        code, _, err = controller.finish(timeout=60)
    assert code == 0, err
    assert_converged(root)
