"""The JSON Schema ships inside the package (and so does the init template
of the GitHub workflow), `batchspec schema --path` finds it, and neither
copy of the schema drifts from the models."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from batchspec.cli.main import main
from batchspec.cli.schema import PACKAGED_SCHEMA, packaged_path
from batchspec.model.jsonschema import SCHEMA_ID, schema_text
from tests.conftest import REPO

CATALOG = REPO / "schema" / "schemastore-catalog.json"


def test_packaged_schema_is_fresh() -> None:
    packaged = files("batchspec") / "data" / PACKAGED_SCHEMA
    assert packaged.read_text(encoding="utf-8") == schema_text(), (
        "batchspec/data/ is stale: run scripts/regen-schema"
    )
    assert (REPO / "schema" / PACKAGED_SCHEMA).read_text() == schema_text()


def test_schema_path_prints_the_packaged_file(capsys) -> None:
    assert main(["schema", "--path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == Path(packaged_path())
    assert path.read_text() == schema_text()


def test_catalog_entry_names_the_schema_id() -> None:
    entry = json.loads(CATALOG.read_text())
    assert entry["url"] == SCHEMA_ID == json.loads(schema_text())["$id"]
    assert set(entry) >= {"name", "description", "fileMatch", "url"}
    # SchemaStore asks for no generic patterns: every match names batchspec.
    assert all("batchspec" in pattern for pattern in entry["fileMatch"])


def test_schema_checks_the_init_specs(tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    assert main(["init", str(tmp_path)]) == 0
    validator = jsonschema.Draft202012Validator(json.loads(Path(packaged_path()).read_text()))
    for spec in (tmp_path / "specs").glob("*.yaml"):
        assert list(validator.iter_errors(YAML(typ="safe").load(spec.read_text()))) == []


@pytest.mark.slow
def test_the_wheel_carries_the_data(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("batchspec-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert f"batchspec/data/{PACKAGED_SCHEMA}" in names
        assert zf.read(f"batchspec/data/{PACKAGED_SCHEMA}").decode() == schema_text()
        workflow = zf.read("batchspec/data/init/github-workflow.yml").decode()
        assert workflow == (REPO / ".github" / "workflows" / "batchspec.yml").read_text()
        for template in ("tickets_local.yaml", "tickets_vertex.yaml", "ticket_priority.py"):
            assert f"batchspec/data/init/{template}" in names
