"""The working copy and the guarded pushes: nothing is ever written over
someone else's state, a write a killed run left behind is found and pushed,
every push keeps the generation it replaced, and a failed precondition is
never retried blindly."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchspec.errors import RemoteStateError, StateConflictError
from batchspec.remote import admin
from batchspec.remote.session import RemoteSession
from batchspec.state.store import StateStore
from batchspec.testing.gcs import StorageDouble
from tests.remote.conftest import BUCKET, URL

STATE = "prod/state.db"


def writer(log: list[str] | None = None, url: str = URL) -> RemoteSession:
    sink = log if log is not None else []
    return RemoteSession(url, create=True, purpose="apply", log=sink.append)


def reader() -> RemoteSession:
    return RemoteSession(URL, create=False, purpose=None)


def audit_kinds(session: RemoteSession) -> list[str]:
    with session as store:
        return [a.kind for a in store.audit_entries()]


def write_entry(kind: str, url: str = URL) -> None:
    with writer(url=url) as store:
        store.log_audit(kind, "a test entry", actor="test")


def state_uploads(double: StorageDouble) -> list:
    return double.uploads(STATE)


def test_a_write_is_pushed_and_read_back(gcs_double: StorageDouble, workdir: Path) -> None:
    write_entry("first")
    assert "first" in audit_kinds(reader())
    blob = gcs_double.versions(BUCKET, STATE)[-1]
    assert blob.metadata["batchspec-lineage"] and blob.metadata["batchspec-serial"].isdigit()
    assert (workdir / ".batchspec/remote/team-state/prod/state.db").is_file()


def test_a_writer_that_changed_nothing_pushes_nothing(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    write_entry("first")
    before = len(state_uploads(gcs_double))
    with writer() as store:
        store.snapshot()
    assert len(state_uploads(gcs_double)) == before


def test_every_push_keeps_the_generation_it_replaced_and_restore_brings_it_back(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    write_entry("first")
    first = gcs_double.versions(BUCKET, STATE)[-1].generation
    write_entry("second")
    kept = gcs_double.read(BUCKET, f"prod/history/state.db.{first}")
    assert kept == gcs_double.versions(BUCKET, STATE)[-1].data or kept is not None
    listed = admin.versions(reader())
    assert [v.kept_as is None for v in listed] == [True, False]
    assert listed[1].generation == first
    admin.restore(reader(), first, actor="test")
    kinds = audit_kinds(reader())
    assert "first" in kinds and "second" not in kinds and kinds[-1] == "state-restore"


@pytest.mark.parametrize("versioning", [False, True], ids=["plain", "versioned"])
def test_a_failed_precondition_is_not_retried_and_loses_nothing(
    gcs_double: StorageDouble, workdir: Path, versioning: bool
) -> None:
    bucket = "team-state-v" if versioning else BUCKET
    if versioning:
        gcs_double.create_bucket(bucket, versioning=True)
    url = f"gs://{bucket}/prod"
    write_entry("base", url)
    session = writer(url=url)
    with pytest.raises(StateConflictError) as caught, session as store:
        store.log_audit("ours", "written while someone else wrote", actor="test")
        # Someone else writes the state meanwhile (a colleague who broke the lock).
        from google.cloud import storage

        storage.Client().bucket(bucket).blob(STATE).upload_from_string(b"theirs")
        theirs = len(gcs_double.calls)
    assert "changed since this run read it" in caught.value.message
    assert "run the command again" in (caught.value.hint or "")
    after = gcs_double.calls[theirs:]
    ours = [c for c in after if "/upload/" in c.path and c.query.get("name") == STATE]
    # Without versioning the replaced generation is gone: keeping it fails first
    # and nothing is uploaded; with versioning the upload is refused (412). Once.
    assert [c.status for c in ours] == ([412] if versioning else [])
    assert gcs_double.read(bucket, STATE) == b"theirs"
    # Our write is still in the working copy, not lost.
    with StateStore.open(session.copy.path) as local:
        assert "ours" in [a.kind for a in local.audit_entries()]


def test_an_upload_that_landed_unanswered_is_recognised(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    write_entry("base")
    gcs_double.drop_answer_next(method="POST", path_part="/upload/", name=STATE)
    write_entry("second")  # the client retries, gets 412, finds its own push id
    assert "second" in audit_kinds(reader())
    assert [c.status for c in state_uploads(gcs_double)][-2:] == [0, 412]


def test_writes_left_unpushed_by_a_killed_run_are_pushed_next_time(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    write_entry("base")
    killed = writer()
    store = killed.__enter__()
    store.log_audit("unpushed", "written, then the process died", actor="test")
    store.close()  # no push: the process was killed here
    killed.lock.release()  # (in real life: broken with `state break-lock`)
    log: list[str] = []
    with writer(log) as again:
        assert "unpushed" in [a.kind for a in again.audit_entries()]
    assert any("never reached" in line for line in log)
    assert "unpushed" in audit_kinds(reader())


def test_an_interrupted_upload_that_did_land_is_not_pushed_again(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    write_entry("base")
    session = writer()
    sidecar = session.copy.sidecar.read_text()
    write_entry("landed")
    session.copy.sidecar.write_text(sidecar)  # killed after the upload, before the sidecar
    uploads = len(state_uploads(gcs_double))
    log: list[str] = []
    with writer(log):
        pass
    assert len(state_uploads(gcs_double)) == uploads and not log


def test_a_copy_with_writes_the_remote_never_saw_is_set_aside_not_pushed(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    write_entry("base")
    killed = writer()
    store = killed.__enter__()
    store.log_audit("stranded", "written, then the process died", actor="test")
    store.close()
    killed.lock.release()
    # Another machine (its own working copy) writes meanwhile.
    other = workdir / "other"
    other.mkdir()
    import os

    here = Path.cwd()
    os.chdir(other)
    try:
        write_entry("elsewhere")
    finally:
        os.chdir(here)
    log: list[str] = []
    with writer(log) as store:
        kinds = [a.kind for a in store.audit_entries()]
    assert "elsewhere" in kinds and "stranded" not in kinds
    aside = list(killed.copy.path.parent.glob("state.db.unpushed-*"))
    assert len(aside) == 1 and any("set the working copy aside" in line for line in log)
    with StateStore.open(aside[0]) as kept:
        assert "stranded" in [a.kind for a in kept.audit_entries()]


def test_readers_take_no_lock(gcs_double: StorageDouble, workdir: Path) -> None:
    write_entry("base")
    with writer() as store:
        store.log_audit("held", "a writer holds the lock", actor="test")
        assert "base" in audit_kinds(reader())  # reads the pushed generation, no wait


def test_forbidden_bucket_names_bucket_and_role(gcs_double: StorageDouble, workdir: Path) -> None:
    gcs_double.deny(BUCKET)
    with pytest.raises(RemoteStateError) as caught:
        reader().__enter__()
    assert f"gs://{BUCKET}" in caught.value.message and "permission denied" in caught.value.message
    assert "roles/storage.objectUser" in (caught.value.hint or "")


def test_missing_bucket_is_named(gcs_double: StorageDouble, workdir: Path) -> None:
    with pytest.raises(RemoteStateError, match="bucket gs://nowhere-b does not exist"):
        RemoteSession("gs://nowhere-b/p", create=True, purpose="apply").__enter__()


def test_unreachable_storage_fails_fast_naming_the_bucket(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("BATCHSPEC_STORAGE_TIMEOUT", "1")
    monkeypatch.setenv("BATCHSPEC_STORAGE_RETRIES", "1")
    with pytest.raises(RemoteStateError) as caught:
        reader().__enter__()
    assert f"did not answer for bucket gs://{BUCKET}" in caught.value.message
