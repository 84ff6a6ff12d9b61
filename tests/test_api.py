"""The library API of docs/api.md: lazy stages, and the example that runs as printed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import batchspec
from tests.conftest import REPO

API_DOC = REPO / "docs" / "api.md"


def fenced(text: str, language: str) -> str:
    """The first ```language block of a markdown text."""
    match = re.search(rf"^```{language}\n(.*?)^```", text, re.S | re.M)
    assert match, f"no {language} block"
    return match.group(1)


def test_import_batchspec_loads_no_stage() -> None:
    probe = "import sys, json, batchspec; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = [m for m in json.loads(proc.stdout) if m.startswith("batchspec")]
    assert loaded == ["batchspec", "batchspec._native"]  # which modules to import compiled


def test_stages_are_modules_reached_from_the_package() -> None:
    for name in batchspec.STAGES:
        stage = getattr(batchspec, name)
        assert stage.__name__ == f"batchspec.{name}"
        assert name in dir(batchspec)
    with pytest.raises(AttributeError, match="no attribute 'engine_room'"):
        batchspec.engine_room  # noqa: B018


def test_every_entry_point_in_the_table_exists() -> None:
    rows = re.findall(r"^\|\s*(?:`(batchspec\.\w+)`)?\s*\|\s*`(\w+)\(", API_DOC.read_text(), re.M)
    assert len(rows) >= 6
    stage = ""
    for module, function in rows:
        stage = module or stage
        assert callable(getattr(getattr(batchspec, stage.split(".")[1]), function)), function


def test_the_documented_example_prints_what_the_page_says(tmp_path: Path) -> None:
    text = API_DOC.read_text()
    script = tmp_path / "example.py"
    script.write_text(fenced(text, "python"))
    clone = tmp_path / "clone"  # the files the example reads, laid out as in the repository
    shutil.copytree(REPO / "specs", clone / "specs")
    shutil.copytree(REPO / "data" / "iris", clone / "data" / "iris")
    model = Path("batchspec/demo/data/iris_logreg.joblib")
    (clone / model).parent.mkdir(parents=True)
    shutil.copy(REPO / model, clone / model)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHSPEC_")}
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == fenced(text, "text")
    assert (clone / "out" / "iris_species").is_dir()
