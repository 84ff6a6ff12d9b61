"""Scenarios that run inside user and mount namespaces of their own (see
`test_mounts.py`): a read-only state folder or file, and a full disk.

Run as `python -m tests.state.mount_scenarios NAME ROOT` after the mounts are
in place; prints one JSON object with what each command did and what the
state file looked like afterwards, for the test to judge.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from batchspec.testing.process import double_env


def batchspec(root: Path, *argv: str) -> dict[str, Any]:
    env = double_env(root, FAKE_BACKEND_IDEMPOTENT="0", FAKE_BACKEND_AUTO_ADVANCE="0")
    done = subprocess.run(
        [sys.executable, "-m", "batchspec", *argv],
        check=False,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return {"argv": list(argv), "code": done.returncode, "out": done.stdout, "err": done.stderr}


def inspect(state: Path) -> dict[str, Any]:
    """Integrity and contents of a state file (read only: it may be on a full disk)."""
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        jobs = conn.execute("SELECT id, name, phase, remote_name FROM jobs ORDER BY id").fetchall()
        events = conn.execute("SELECT job_id, event FROM transitions ORDER BY id").fetchall()
        return {
            "integrity": [r[0] for r in conn.execute("PRAGMA integrity_check")],
            "jobs": jobs,
            "events": events,
        }
    finally:
        conn.close()


def read_only(root: Path) -> dict[str, Any]:
    """Readers and writers on a state file that cannot be written."""
    state = str(root / "ro" / "state.db")
    commands = [
        ("status", "--state", state),
        ("status", "--state", state, "--all", "-o", "json"),
        ("plan", "specs", "--state", state),
        ("history", "--state", state, "-o", "json"),
        ("get", "job_000", "--state", state),
        ("apply", "specs", "--state", state),
        ("reconcile", "specs", "--once", "--state", state),
    ]
    return {"runs": [batchspec(root, *argv) for argv in commands]}


def disk_full(root: Path) -> dict[str, Any]:
    """An apply that runs out of disk half-way, then the same apply with space again."""
    state = root / "full" / "state.db"
    filler = root / "full" / "filler"
    first = batchspec(root, "apply", "specs", "--state", str(state), "--select", "nothing")
    with filler.open("wb") as out:  # take every byte left, then give back a little
        chunk = b"\0" * 65536
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - int(os.environ.get("FREE_BYTES", "196608"))))
    full = batchspec(root, "apply", "specs", "--state", str(state))
    after_full = inspect(state)
    filler.unlink()
    again = batchspec(root, "apply", "specs", "--state", str(state))
    service = json.loads((root / "service.json").read_text())
    return {
        "runs": [first, full, again],
        "after_full": after_full,
        "final": inspect(state),
        "creates": service["creates"],
        "remote": sorted(service["jobs"]),
    }


if __name__ == "__main__":
    scenario = {"read_only": read_only, "disk_full": disk_full}[sys.argv[1]]
    print(json.dumps(scenario(Path(sys.argv[2]))))
