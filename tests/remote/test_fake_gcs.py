"""Plain reads and writes of remote state against fake-gcs-server, a real
Cloud Storage emulator (its preconditions are not Cloud Storage's, so the
lock and the guarded writes are tested against the double instead)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchspec.cli.main import main
from batchspec.remote.session import RemoteSession
from batchspec.state.store import StateStore

pytestmark = pytest.mark.slow


def test_push_pull_and_read_through_the_cli(
    gcs, bucket: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"gs://{bucket}/team"
    local = workdir / "local.db"
    with StateStore.open(local) as store:
        store.log_audit("made-locally", "a state that moves to the bucket", actor="test")
    assert main(["state", "push", str(local), "--state", url]) == 0
    assert f"pushed {local} to {url}" in capsys.readouterr().out

    assert main(["history", "--audit", "--state", url]) == 0
    out = capsys.readouterr().out
    assert "made-locally" in out and "state-push" in out

    with RemoteSession(url, create=True, purpose="apply") as store:
        store.log_audit("second", "written through a writer session", actor="test")
    copy = workdir / "copy.db"
    assert main(["state", "pull", "--out", str(copy), "--state", url]) == 0
    with StateStore.open(copy) as pulled:
        kinds = [a.kind for a in pulled.audit_entries()]
    assert kinds[-1] == "second" and "made-locally" in kinds

    assert main(["state", "lock-info", "--state", url]) == 0
    assert f"{url}: not locked" in capsys.readouterr().out
