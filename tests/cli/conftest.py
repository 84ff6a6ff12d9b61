"""A project made by `batchspec init`, optionally with its local job applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchspec.cli.main import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """A fresh `batchspec init` folder, as the working directory."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    for name in ("BATCHSPEC_STATE", "BATCHSPEC_HOME", "NO_COLOR", "BATCHSPEC_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["init"]) == 0
    capsys.readouterr()
    return root


@pytest.fixture
def applied(project: Path, capsys) -> Path:
    """The init project after `apply --target local --wait` ran its job."""
    assert main(["apply", "--target", "local", "--wait", "--yes", "--interval", "0.1"]) == 0
    capsys.readouterr()
    return project


def break_spec(root: Path) -> Path:
    """Add a spec with an error (an unknown key) to the project."""
    bad = root / "specs" / "broken.yaml"
    text = (root / "specs" / "tickets_local.yaml").read_text()
    text = text.replace("name: ticket_priority", "name: broken")
    bad.write_text(text.replace("format: JSONL", "formt: JSONL", 1))
    return bad
