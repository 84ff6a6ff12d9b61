"""A state file that is not what it should be gets a clear StateError, never
silent damage (issue 11, item 2): empty, damaged, edited by hand, missing a
table, a FIFO, a folder or a device at its path, or someone else's SQLite file.

Read-only locations and a full disk need mounts of their own: see
`test_mounts.py`.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from batchspec.errors import StateError
from batchspec.model.enums import JobState
from batchspec.state import StateStore
from batchspec.testing.process import run_cli
from batchspec.testing.specs import compiled
from batchspec.testing.state import record_job

REPO = Path(__file__).resolve().parents[2]


def state_with_jobs(path: Path, count: int = 3) -> None:
    with StateStore.open(path) as store:
        for i in range(count):
            record_job(store, compiled(f"job_{i:03d}"), state=JobState.RUNNING)


def edit(path: Path, *statements: str) -> None:
    """Change the file behind batchspec's back, as a person with `sqlite3` would."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def assert_clear_failure(code: int, err: str, *needles: str) -> None:
    assert code == 1, err
    assert "internal error" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


# --- an empty file ---------------------------------------------------------------


def test_an_empty_file_is_not_empty_state(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    for readonly in (False, True):
        with pytest.raises(StateError, match=r"empty \(0 bytes\)") as info:
            StateStore.open(path, readonly=readonly)
        assert "--init" in (info.value.hint or "")
    assert_clear_failure(*run_cli("status", "--state", str(path))[::2], "is empty (0 bytes)")
    assert path.stat().st_size == 0 and sorted(os.listdir(tmp_path)) == ["state.db"]


def test_init_starts_new_state_in_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    with StateStore.open(path, init=True) as store:
        assert len(store.lineage) == 32 and store.current_jobs() == {}
    with StateStore.open(path) as store:  # a real state file now: no --init needed
        assert store.schema_version >= 1
    _, _, err = run_cli("apply", "--state", str(path), "--init", str(tmp_path / "none"))
    assert "is empty" not in err


# --- damage ----------------------------------------------------------------------


def backups(path: Path) -> tuple[Path, Path]:
    older = path.with_name(f"{path.name}.v1-20250101T000000Z.bak")
    newer = path.with_name(f"{path.name}.v1-20250601T000000Z.bak")
    for i, backup in enumerate((older, newer)):
        state_with_jobs(backup, 1)
        os.utime(backup, (1_700_000_000 + i * 1000, 1_700_000_000 + i * 1000))
    return older, newer


def damage_last_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    data[-page:] = b"\x5a" * page
    path.write_bytes(bytes(data))


def test_writers_check_integrity_and_name_the_newest_backup(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state_with_jobs(path, 150)
    _, newer = backups(path)
    damage_last_page(path)
    with pytest.raises(StateError, match=r"integrity check|damaged") as info:
        StateStore.open(path)
    assert str(newer) in (info.value.hint or "")
    code, _, err = run_cli("apply", "--state", str(path), str(tmp_path / "none"))
    assert_clear_failure(code, err, str(newer))


def test_a_truncated_file_is_damage_with_the_backup_named(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state_with_jobs(path, 150)
    _, newer = backups(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for readonly in (False, True):
        with pytest.raises(StateError) as info, StateStore.open(path, readonly=readonly) as s:
            s.all_jobs()
        assert str(newer) in (info.value.hint or ""), info.value
    assert_clear_failure(*run_cli("status", "--state", str(path), "--all")[::2], str(newer))


def test_no_backup_says_so(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state_with_jobs(path, 150)
    damage_last_page(path)
    with pytest.raises(StateError) as info:
        StateStore.open(path)
    assert "no backup" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("statement", "needle"),
    [
        ("UPDATE jobs SET state = 'EXPLODED' WHERE id = 2", "job #2 state 'EXPLODED'"),
        ("UPDATE jobs SET phase = 'queued' WHERE id = 1", "job #1 phase 'queued'"),
        ("UPDATE jobs SET disposition = 'lost' WHERE id = 3", "job #3 disposition 'lost'"),
        ("UPDATE jobs SET created_at = 'yesterday' WHERE id = 1", "job #1 created_at"),
    ],
)
def test_unknown_values_in_rows_are_named(tmp_path: Path, statement: str, needle: str) -> None:
    path = tmp_path / "state.db"
    state_with_jobs(path)
    edit(path, statement)
    # Readers meet the row; writers' integrity check already refuses a broken CHECK.
    with StateStore.open(path, readonly=True) as store, pytest.raises(StateError) as info:
        store.all_jobs()
    assert needle in info.value.message
    code, _, err = run_cli("status", "--state", str(path), "--all")
    assert_clear_failure(code, err, needle)


def test_an_unknown_drift_kind_is_named(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state_with_jobs(path, 1)
    edit(
        path,
        "INSERT INTO drift(key, kind, detail, first_seen, last_seen)"
        " VALUES ('k', 'haunted', 'boo', '2025-01-01T00:00:00.000000Z',"
        " '2025-01-01T00:00:00.000000Z')",
    )
    code, _, err = run_cli("history", "--state", str(path), "--drift")
    assert_clear_failure(code, err, "'haunted'")


@pytest.mark.parametrize(
    ("statement", "needle"),
    [
        ("DROP TABLE transitions", "table transitions"),
        ("DROP INDEX jobs_submit_key", "index jobs_submit_key"),
        ("ALTER TABLE jobs DROP COLUMN manifest_sha256", "column jobs.manifest_sha256"),
    ],
)
def test_a_missing_table_index_or_column_is_damage(
    tmp_path: Path, statement: str, needle: str
) -> None:
    path = tmp_path / "state.db"
    state_with_jobs(path)
    edit(path, statement)
    for readonly in (False, True):
        with pytest.raises(StateError, match=f"{needle}.* missing"):
            StateStore.open(path, readonly=readonly)
    assert_clear_failure(*run_cli("status", "--state", str(path))[::2], needle)


# --- things that are not a state file at all -------------------------------------


def test_a_fifo_at_the_state_path_is_refused_without_hanging(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    os.mkfifo(path)
    for command in (["status"], ["apply", str(tmp_path / "none")]):
        done = subprocess.run(
            [sys.executable, "-m", "batchspec", *command, "--state", str(path)],
            check=False,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,  # today's main blocks for ever reading the FIFO's "header"
        )
        assert_clear_failure(done.returncode, done.stderr, "named pipe (FIFO)")


def test_a_folder_or_a_device_at_the_state_path_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "state.db"
    folder.mkdir()
    with pytest.raises(StateError, match="is a folder"):
        StateStore.open(folder)
    assert_clear_failure(*run_cli("history", "--state", str(folder))[::2], "is a folder")
    with pytest.raises(StateError, match="character device"):
        StateStore.open("/dev/null")
    assert_clear_failure(*run_cli("status", "--state", "/dev/null")[::2], "character device")


def test_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "state.db"
    link.symlink_to(tmp_path / "gone" / "state.db")
    with pytest.raises(StateError, match="does not exist"):
        StateStore.open(link)


def test_a_foreign_sqlite_file_is_left_byte_for_byte_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    stamp = path.stat().st_mtime_ns
    for readonly in (False, True):
        with pytest.raises(StateError, match=r"not a batchspec state file.*left unchanged"):
            StateStore.open(path, readonly=readonly)
    assert_clear_failure(*run_cli("status", "--state", str(path))[::2], "not a batchspec")
    code, _, err = run_cli("apply", "--state", str(path), str(tmp_path / "none"))
    assert_clear_failure(code, err, "not a batchspec")
    assert path.read_bytes() == before  # today's main switched it to WAL first
    assert path.stat().st_mtime_ns == stamp
    assert sorted(os.listdir(tmp_path)) == ["other.db"]  # no -wal, no -shm
