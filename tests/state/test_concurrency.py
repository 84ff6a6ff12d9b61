"""Commands beside a live controller must never cost it its locks (issue 11, item 1).

The bug: `_check_header` read the state file with a plain `open()` in a
process that already held an SQLite connection to it (the lease keeper
re-opened the store on every pass). Closing *any* descriptor of a file drops
every POSIX lock the process holds on it (SQLite's "How To Corrupt An SQLite
Database File", section 2.2), so the controller silently lost its shared
lock; the next `status` to close its connection believed it was the last
user, checkpointed and deleted the write-ahead log the controller was still
writing to (`/proc/PID/fd` showed `state.db-wal (deleted)`), and rows were
lost.

The scenario below runs one real `batchspec reconcile` process and, 50
times, adds a spec and runs `plan --out`, `status`, `history` and a refused
`apply` of the now stale plan next to it; after each round the controller's
WAL must still be linked. At the end every transition ever seen is still
there, each job's transitions form one unbroken chain, every remote job is
recorded once, and `PRAGMA integrity_check` is ok.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from batchspec.testing.process import Child, double_env, wait_until
from batchspec.testing.process import run_cli as cli
from batchspec.testing.specs import local_job, write_specs

ROUNDS = 50

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="/proc")]


def open_state_files(pid: int, state: Path) -> list[str]:
    """What the process's descriptors on the state file, its WAL and its shm point at."""
    links = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith(str(state)):
                links.append(target)
    return links


def assert_wal_linked(pid: int, state: Path, when: str = "") -> None:
    links = open_state_files(pid, state)
    deleted = [link for link in links if link.endswith("(deleted)")]
    assert not deleted, f"{when}: the controller lost its locks: {deleted}"
    assert f"{state}-wal" in links, f"controller has no WAL open: {links}"


def recorded(state: Path, name: str) -> bool:
    """Whether the controller has recorded job `name` (a new job row moves the
    state hash a saved plan is checked against; a bare serial bump, such as a
    counters update, does not)."""
    connection = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        return (
            connection.execute("SELECT 1 FROM jobs WHERE name = ?", (name,)).fetchone() is not None
        )
    finally:
        connection.close()


def test_commands_beside_a_live_controller_keep_its_wal_and_every_row(tmp_path: Path) -> None:
    root = tmp_path
    state = root / "state.db"
    specs = root / "specs"
    write_specs(specs, [local_job("job_seed")])
    argv = [sys.executable, "-m", "batchspec", "reconcile", "specs", "--interval", "0.05"]
    argv += ["--max-interval", "0.2", "--max-running", "0"]
    seen: set[int] = set()
    env = double_env(root, BATCHSPEC_STATE=str(state), FAKE_BACKEND_AUTO_ADVANCE="1")
    with Child(argv, cwd=root, env=env) as controller:
        # Bounded deadlines, generous for a loaded CI runner: only a hang reaches them.
        controller.wait_for_err(r"^controller ready: ", timeout=180)
        controller.wait_for_out(r" pass 1: ", timeout=180)
        plan = root / "plan.json"
        for round_ in range(ROUNDS):
            # Absolute paths: these commands run in this process, whose cwd is not `root`.
            code, _, err = cli("plan", str(specs), "--state", str(state), "--out", str(plan))
            assert code in (0, 2), err  # 2: the plan has changes
            name = f"job_{round_:02d}"
            write_specs(specs, [local_job(name)])

            def moved(name: str = name, when: str = f"round {round_}") -> bool:
                assert_wal_linked(controller.pid, state, when)  # a frozen pass: look here
                return recorded(state, name)

            wait_until(moved, timeout=120, what=f"a controller pass to record {name}")
            code, _, err = cli("status", "--state", str(state), "--all")
            assert code == 0, err
            code, out, err = cli(
                "history", "--state", str(state), "--limit", "100000", "-o", "json"
            )
            assert code == 0, err
            seen |= {t["id"] for t in json.loads(out)["transitions"]}
            code, out, err = cli("apply", str(plan), "--state", str(state))
            refused = "state changed since plan" in err or "is locked" in err
            assert code == 1 and refused, f"exit {code}\n{out}\n{err}"
            assert_wal_linked(controller.pid, state, f"round {round_}")
        names = {"job_seed", *(f"job_{i:02d}" for i in range(ROUNDS))}

        def all_succeeded() -> bool:
            code, out, _ = cli("status", "--state", str(state), "-o", "json")
            rows = json.loads(out) if code == 0 else []
            return {r["name"] for r in rows if r["state"] == "SUCCEEDED"} == names

        wait_until(all_succeeded, timeout=240, what="every job to succeed")
        assert_wal_linked(controller.pid, state)
        controller.proc.send_signal(signal.SIGTERM)
        code, _, err = controller.finish()
    assert code == 0, err
    assert "leases released" in err

    connection = sqlite3.connect(state)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ids = {row[0] for row in connection.execute("SELECT id FROM transitions")}
        assert seen <= ids, f"{len(seen - ids)} transitions seen during the run were lost"
        jobs = connection.execute("SELECT id, name, state, remote_name FROM jobs").fetchall()
        assert {name for _, name, _, _ in jobs} == names
        for job_id, name, final, _ in jobs:
            events = connection.execute(
                "SELECT event, from_state, to_state FROM transitions WHERE job_id = ? ORDER BY id",
                (job_id,),
            ).fetchall()
            assert [e for e, _, _ in events[:2]] == ["intent", "submitted"], (name, events)
            states = [(f, t) for e, f, t in events if e == "state"]
            chain = [None, *(t for _, t in states)]
            assert [f for f, _ in states] == chain[:-1], f"{name}: broken chain {states}"
            assert chain[-1] == final == "SUCCEEDED", (name, events)
    finally:
        connection.close()
    service = json.loads((root / "service.json").read_text())
    assert sorted(service["jobs"]) == sorted(remote for *_, remote in jobs)
    assert len(service["jobs"]) == len(names)
