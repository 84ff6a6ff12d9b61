"""`batchspec ui` and `batchspec report` as commands: flags, refusals, tokens."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from batchspec.cli.main import main
from tests.ui.test_app import seeded

pytestmark = pytest.mark.slow


def test_another_interface_needs_allow_remote(capsys: Any) -> None:
    assert main(["ui", "--host", "0.0.0.0"]) == 1
    err = capsys.readouterr().err
    assert "would let other machines read the jobs" in err and "--allow-remote" in err


def test_a_port_in_use_is_a_clear_error(tmp_path: Path, capsys: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["ui", "--port", str(port), "--state", str(tmp_path / "s.db")]) == 1
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err


def test_a_bad_token_file_is_refused(tmp_path: Path, capsys: Any) -> None:
    short = tmp_path / "token"
    short.write_text("abc\n")
    assert main(["ui", "--token-file", str(short), "--port", "0"]) == 1
    assert "16 to 256 characters" in capsys.readouterr().err
    assert main(["ui", "--token-file", str(tmp_path / "missing"), "--port", "0"]) == 1
    assert "cannot read --token-file" in capsys.readouterr().err


def test_a_token_file_protects_a_loopback_server(tmp_path: Path, serve: Any) -> None:
    state = seeded(tmp_path / "state.db")
    token = tmp_path / "token"
    token.write_text("a-long-enough-token-0123456789\n")
    server = serve(tmp_path, "--state", str(state), "--token-file", str(token))
    assert "?token=a-long-enough-token-0123456789" in server.lines[-1]
    base = server.url.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(base + "api/jobs", timeout=30)
    assert refused.value.code == 401
    request = urllib.request.Request(
        base + "api/jobs", headers={"Authorization": "Bearer a-long-enough-token-0123456789"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def test_report_writes_one_file_and_says_so(tmp_path: Path, capsys: Any) -> None:
    state = seeded(tmp_path / "state.db")
    out = tmp_path / "out" / "report.html"
    assert main(["report", "--state", str(state), "--html", str(out), "--jobs", "3"]) == 0
    err = capsys.readouterr().err
    assert f"report written to {out}" in err and "24 job(s)" in err
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "job_00" in html
    assert html.count('class="job"') == 3
    assert main(["report", "--state", str(state), "--html", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err


def test_report_with_spec_errors_still_writes_them(tmp_path: Path, capsys: Any) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "bad.yaml").write_text(
        "apiVersion: batchspec.dev/v1\nkind: BatchPredictionJob\nmetadata: {name: 1bad}\n"
    )
    out = tmp_path / "report.html"
    code = main(["report", str(specs), "--state", str(tmp_path / "none.db"), "--html", str(out)])
    assert code == 1
    assert "plan-errors" in out.read_text()
    assert not (tmp_path / "none.db").exists()  # reading never creates state


def test_a_state_file_it_cannot_read_fails_at_start(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "state.db"
    bad.write_text("not a database at all")
    assert main(["ui", "--port", "0", "--state", str(bad)]) == 1
    assert "is not an SQLite database" in capsys.readouterr().err
    assert main(["ui", "--port", "0", "--state", str(tmp_path)]) == 1
    assert "is a folder, not a file" in capsys.readouterr().err
