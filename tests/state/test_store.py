"""The state store: schema, migrations, transactions, records, corruption."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from batchspec.errors import StateError
from batchspec.model.enums import JobState
from batchspec.model.jobs import RemoteJob
from batchspec.state import Disposition, DriftFinding, DriftKind, Phase, StateStore
from batchspec.state.migrations import MIGRATIONS, Migration
from batchspec.state.paths import resolve_state_path
from batchspec.testing.specs import compiled


def remote(name: str, state: JobState = JobState.QUEUED, **extra: object) -> RemoteJob:
    return RemoteJob(
        backend="local", remote_name=name, job_name="a", fingerprint=None, state=state, **extra
    )  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    s = StateStore.open(tmp_path / "state.db")
    yield s
    s.close()


def test_new_file_has_schema_lineage_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.db"
    with StateStore.open(path) as s:
        assert s.schema_version == len(MIGRATIONS)
        lineage = s.lineage
        assert len(lineage) == 32
        assert s.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with StateStore.open(path) as again:
        assert again.lineage == lineage


def test_every_write_bumps_the_serial(store: StateStore) -> None:
    before = store.serial
    store.record_intent(compiled("a"), submit_key="k1", attempt=1, actor="t", reason="new")
    assert store.serial == before + 1


def test_job_lifecycle_is_recorded_with_transitions(store: StateStore) -> None:
    job = compiled("a")
    rec = store.record_intent(job, submit_key=job.fingerprint, attempt=1, actor="t", reason="new")
    assert rec.phase is Phase.INTENT and rec.in_doubt and rec.state is None
    rec = store.record_submitted(rec.id, remote("r/1"), actor="t")
    assert rec.phase is Phase.SUBMITTED and rec.remote_name == "r/1"
    assert rec.state is JobState.QUEUED
    changed = store.record_observed(
        rec.id,
        remote("r/1", JobState.SUCCEEDED, completed_count=10, total_count=10, output_location="/o"),
        actor="t",
    )
    assert changed is not None and changed.terminal and changed.ended_at is not None
    assert changed.output_location == "/o"
    assert (
        store.record_observed(
            rec.id,
            remote(
                "r/1", JobState.SUCCEEDED, completed_count=10, total_count=10, output_location="/o"
            ),
            actor="t",
        )
        is None
    )
    events = [(t.event, t.to_state) for t in store.transitions(name="a")]
    assert events == [
        ("intent", None),
        ("submitted", None),
        ("state", "QUEUED"),
        ("state", "SUCCEEDED"),
    ]
    assert store.revision(job.fingerprint) is not None
    assert [n for _, n, _ in store.names_used("spec")] == ["a"]
    assert [n for _, n, _ in store.names_used("remote")] == ["r/1"]


def test_one_current_job_per_name_and_one_job_per_submit_key(store: StateStore) -> None:
    job = compiled("a")
    first = store.record_intent(job, submit_key="k", attempt=1, actor="t", reason="new")
    with pytest.raises(StateError, match="already has a current record"):
        store.record_intent(job, submit_key="k2", attempt=2, actor="t", reason="again")
    with pytest.raises(StateError, match="already recorded"):
        store.record_intent(
            job, submit_key="k", attempt=2, supersede=first.id, actor="t", reason="again"
        )
    # The failed transaction rolled back: the first job is still current.
    assert store.job(first.id).disposition is Disposition.CURRENT


def test_supersede_and_forget_keep_history(store: StateStore) -> None:
    job = compiled("a")
    first = store.record_intent(job, submit_key="k1", attempt=1, actor="t", reason="new")
    second = store.record_intent(
        job, submit_key="k2", attempt=2, supersede=first.id, actor="t", reason="resubmit"
    )
    assert store.job(first.id).disposition is Disposition.SUPERSEDED
    assert store.current_jobs()["a"].id == second.id
    assert store.next_attempt(job.fingerprint) == 3
    store.set_disposition(second.id, Disposition.FORGOTTEN, actor="t", reason="spec removed")
    assert store.current_jobs() == {}
    assert len(store.all_jobs(name="a")) == 2
    assert store.find_job("a") is not None and store.find_job("a").id == second.id


def test_state_hash_ignores_counters_but_not_states(store: StateStore) -> None:
    rec = store.record_intent(compiled("a"), submit_key="k", attempt=1, actor="t", reason="n")
    rec = store.record_submitted(rec.id, remote("r", JobState.RUNNING), actor="t")
    h1 = store.state_hash()
    store.record_observed(rec.id, remote("r", JobState.RUNNING, completed_count=5), actor="t")
    assert store.state_hash() == h1
    store.record_observed(rec.id, remote("r", JobState.SUCCEEDED), actor="t")
    assert store.state_hash() != h1


def test_secrets_are_redacted_in_recorded_revisions(store: StateStore) -> None:
    import json

    from batchspec.compile import compile_spec
    from batchspec.model.spec import BatchPredictionJobSpec
    from batchspec.testing.specs import local_job

    doc = local_job("a")
    doc["spec"]["model"]["local"] = {
        "runner": "command",
        "command": ["serve"],
        "env": {"API_TOKEN": "s3cret", "MODE": "fast"},
    }
    job = compile_spec(BatchPredictionJobSpec.model_validate_json(json.dumps(doc)))
    store.record_intent(job, submit_key="k", attempt=1, actor="t", reason="n")
    env = store.revision(job.fingerprint).body["spec"]["model"]["local"]["env"]
    assert env == {"API_TOKEN": "<redacted>", "MODE": "fast"}
    # The file's bytes are read only once no connection is open: a raw open beside a
    # connection would drop its locks (batchspec.state.connection refuses it).
    store.close()
    files = [Path(f"{store.path}{suffix}") for suffix in ("", "-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert b"s3cret" not in raw


def test_drift_is_recorded_once_per_finding_with_times(store: StateStore) -> None:
    f = DriftFinding(DriftKind.UNKNOWN_JOB, "stray", name="x", backend="local", remote_name="r")
    first = store.record_drift([f])
    again = store.record_drift([f])
    assert first[0].id == again[0].id and again[0].times_seen == 2
    assert again[0].last_seen >= first[0].first_seen
    assert len(store.drift_events()) == 1


def test_missing_file_read_only_gives_empty_memory_store(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "none.db", create=False) as s:
        assert s.current_jobs() == {} and not s.exists
    assert not (tmp_path / "none.db").exists()


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StateError, match="not an SQLite database") as info:
        StateStore.open(path)
    assert "backup" in (info.value.hint or "") or ".bak" in (info.value.hint or "")


def test_damaged_sqlite_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore.open(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wipe the schema page, keep the header
    path.write_bytes(bytes(data))
    with pytest.raises(StateError, match=r"damaged|unreadable|not a batchspec") as info:
        StateStore.open(path)
    assert info.value.hint


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="not a batchspec state file"):
        StateStore.open(path)


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StateError, match="newer than this batchspec") as info:
        StateStore.open(path)
    assert "upgrade" in (info.value.hint or "")
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.bak"))


V2 = Migration(2, "add a note column", "ALTER TABLE jobs ADD COLUMN note TEXT;")


def test_migration_backs_up_first_and_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with StateStore.open(path) as s:
        s.record_intent(compiled("a"), submit_key="k", attempt=1, actor="t", reason="n")
        lineage = s.lineage
    with StateStore.open(path, migrations=(*MIGRATIONS, V2)) as s:
        assert s.schema_version == 2
        assert s.lineage == lineage and "a" in s.current_jobs()
        columns = [r[1] for r in s.connection.execute("PRAGMA table_info(jobs)")]
        assert "note" in columns
        assert any(e.kind == "migrate" for e in s.audit_entries())
    backups = list(tmp_path.glob("state.db.v1-*.bak"))
    assert len(backups) == 1
    with StateStore.open(backups[0]) as old:
        assert old.schema_version == 1 and "a" in old.current_jobs()


def test_failed_migration_rolls_back_and_keeps_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore.open(path).close()
    broken = Migration(2, "broken", "ALTER TABLE jobs ADD COLUMN x TEXT;\nSELECT * FROM nope;")
    with pytest.raises(StateError):
        StateStore.open(path, migrations=(*MIGRATIONS, broken))
    with StateStore.open(path) as s:
        assert s.schema_version == 1
        assert "x" not in [r[1] for r in s.connection.execute("PRAGMA table_info(jobs)")]
    assert len(list(tmp_path.glob("*.bak"))) == 1


def test_state_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATCHSPEC_STATE", raising=False)
    assert resolve_state_path(None) == Path(".batchspec/state.db")
    monkeypatch.setenv("BATCHSPEC_STATE", "/tmp/env.db")
    assert resolve_state_path(None) == Path("/tmp/env.db")
    assert resolve_state_path("flag.db") == Path("flag.db")


def test_processes_opening_a_fresh_file_together_all_succeed(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from batchspec.state import StateStore;"
        " s = StateStore.open(sys.argv[1]); s.log_audit('hello', 'x', actor='p'); print(s.lineage)"
    )
    repo = Path(__file__).resolve().parents[2]
    for trial in range(2):
        path = tmp_path / f"fresh{trial}.db"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(path)],
                cwd=repo,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(5)
        ]
        results = [p.communicate(timeout=60) for p in procs]
        assert [p.returncode for p in procs] == [0] * 5, results
        assert len({out for out, _ in results}) == 1  # one file, one lineage
    # New files are built beside the path and linked in whole: a second process never
    # finds a half-made (0-byte) file there, and no temporary file stays behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh0.db", "fresh1.db"]
