"""A long-running reader follows remote state: `LiveSnapshot` downloads the live
generation again only when it changed (one metadata GET per refresh), serves
the last one through an outage, and `batchspec ui` shows what a writer on
another machine recorded, without ever taking the lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchspec.errors import RemoteStateError
from batchspec.remote.session import RemoteSession
from batchspec.remote.snapshot import LiveSnapshot
from batchspec.testing.gcs import StorageDouble
from tests.remote.conftest import URL


def write(entry: str) -> None:
    """A writer elsewhere (CI) records something and pushes a new generation."""
    with RemoteSession(URL, create=True, purpose="apply") as store:
        store.log_audit(entry, "written by another machine", actor="ci")


def kinds(snapshot: LiveSnapshot) -> list[str]:
    return [a.kind for a in snapshot.store().audit_entries()]


def downloads(double: StorageDouble) -> int:
    return sum(1 for c in double.calls if c.method == "GET" and c.query.get("alt") == "media")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_follows_new_generations_and_downloads_only_on_change(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    clock = Clock()
    snapshot = LiveSnapshot(URL, refresh=5.0, clock=clock)
    try:
        assert kinds(snapshot) == [] and snapshot.generation == 0  # nothing applied yet
        write("first")
        assert "first" not in kinds(snapshot)  # within the refresh interval: not asked
        clock.now += 5.0
        assert "first" in kinds(snapshot)
        seen = downloads(gcs_double)
        for _ in range(3):
            clock.now += 5.0
            assert "first" in kinds(snapshot)
        assert downloads(gcs_double) == seen  # same generation: never downloaded again
        write("second")
        clock.now += 5.0
        assert {"first", "second"} <= set(kinds(snapshot))
        assert downloads(gcs_double) == seen + 1
    finally:
        snapshot.close()


def test_an_outage_serves_the_last_snapshot_and_says_so_once(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    write("before")
    clock, said = Clock(), []
    snapshot = LiveSnapshot(URL, refresh=1.0, clock=clock, log=said.append)
    try:
        assert "before" in kinds(snapshot)
        gcs_double.deny("team-state")
        for _ in range(3):
            clock.now += 1.0
            assert "before" in kinds(snapshot)
        assert len(said) == 1 and "team-state" in said[0], said
    finally:
        snapshot.close()


def test_without_any_snapshot_an_outage_is_an_error(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    gcs_double.deny("team-state")
    snapshot = LiveSnapshot(URL)
    try:
        with pytest.raises(RemoteStateError, match="team-state"):
            snapshot.store()
    finally:
        snapshot.close()


def test_the_ui_shows_remote_state_and_never_locks(
    gcs_double: StorageDouble, workdir: Path
) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from batchspec.compile import compile_spec
    from batchspec.model.enums import JobState
    from batchspec.testing.specs import local_job as spec_doc
    from batchspec.testing.specs import typed_spec
    from batchspec.testing.state import record_job
    from batchspec.ui.app import create_app
    from batchspec.ui.source import RemoteStateReader

    reader = RemoteStateReader(URL, refresh=0.0)
    with TestClient(create_app(reader), base_url="http://127.0.0.1") as client:
        page = client.get("/")
        assert page.status_code == 200 and URL in page.text
        with RemoteSession(URL, create=True, purpose="apply") as store:
            record_job(
                store, compile_spec(typed_spec(spec_doc("nightly_scores"))), JobState.RUNNING
            )
        assert "nightly_scores" in client.get("/").text
    posts = [c for c in gcs_double.calls if c.method == "POST"]
    lock_creates = [c for c in posts if c.query.get("name", "").endswith("state.lock")]
    assert len(lock_creates) == 1  # the writer's; the reader never locked


def test_batchspec_ui_reads_gs_state_from_the_flag_or_the_environment(
    gcs_double: StorageDouble, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from batchspec.cli.ui import _reader
    from batchspec.ui.source import RemoteStateReader

    for flag in (URL, None):
        if flag is None:
            monkeypatch.setenv("BATCHSPEC_STATE", URL)
        reader = _reader(argparse.Namespace(state=flag))
        try:
            assert isinstance(reader, RemoteStateReader) and reader.label == URL
            assert reader.call(lambda store: store.current_jobs()) == {}  # nothing applied yet
        finally:
            reader.close()
