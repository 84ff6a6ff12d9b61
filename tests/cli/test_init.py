"""`batchspec init`: what it writes passes validate, plan and the main
command; it never overwrites anything."""

from __future__ import annotations

from pathlib import Path

from batchspec.cli.init import FILES, pin_install
from batchspec.cli.main import main
from tests.conftest import REPO


def test_init_project_validates_plans_and_runs(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BATCHSPEC_STATE", "BATCHSPEC_HOME", "BATCHSPEC_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["init", "proj"]) == 0
    assert sorted(str(p.relative_to("proj")) for p in Path("proj").rglob("*") if p.is_file()) == (
        sorted(FILES)
    )
    monkeypatch.chdir("proj")
    assert main(["validate"]) == 0
    assert main(["plan"]) == 2  # two jobs to create
    assert main(["apply", "--target", "local", "--wait", "--interval", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "ticket_priority  SUCCEEDED  6/6" in out
    assert main(["plan", "--target", "local"]) == 0


def test_init_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    (tmp_path / "specs").mkdir()
    mine = tmp_path / "specs" / "tickets_local.yaml"
    mine.write_text("mine\n")
    (tmp_path / ".gitignore").write_text("keep\n")
    assert main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "2 file(s) exist" in err
    assert str(mine) in err and str(tmp_path / ".gitignore") in err
    assert mine.read_text() == "mine\n"
    # nothing else was written
    left = sorted(p.name for p in tmp_path.rglob("*"))
    assert left == sorted([".gitignore", "specs", "tickets_local.yaml"])


def test_the_workflow_is_the_repository_one_installing_the_package(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    written = (tmp_path / ".github" / "workflows" / "batchspec.yml").read_text()
    ours = (REPO / ".github" / "workflows" / "batchspec.yml").read_text()
    assert written == pin_install(ours)
    assert "pip install ." not in written and 'pip install ".' not in written
    assert 'pip install "batchspec' in written


def test_pin_install() -> None:
    text = (
        'run: pip install .\nrun: pip install ".[vertex,sentiment]"\nrun: pip install pre-commit\n'
    )
    pinned = pin_install(text).splitlines()
    assert pinned[0].startswith('run: pip install "batchspec==')
    assert pinned[1].startswith('run: pip install "batchspec[vertex,sentiment]==')
    assert pinned[2] == "run: pip install pre-commit"


def test_specs_point_editors_at_the_published_schema(tmp_path: Path) -> None:
    import json

    assert main(["init", str(tmp_path)]) == 0
    url = "https://json.schemastore.org/batchspec-v1.json"
    for spec in (tmp_path / "specs").glob("*.yaml"):
        assert spec.read_text().splitlines()[0] == f"# yaml-language-server: $schema={url}"
    settings = json.loads((tmp_path / ".vscode" / "settings.json").read_text())
    assert url in settings["yaml.schemas"]
