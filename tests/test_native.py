"""The compiled modules (`batchspec._native`): used where they were built
from the sources as they are, never otherwise, and saying what the Python
sources say."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchspec import _native
from tests.compile.test_validate_agrees import ALL_CASES

REPO = Path(__file__).resolve().parent.parent
COMPILER = sysconfig.get_config_var("CC") or "cc"


def _run(code: str, *, pure: bool, cwd: Path = REPO) -> str:
    env = {**os.environ, _native.PURE_ENV: "1" if pure else "0"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _module_files(pure: bool) -> dict[str, str]:
    code = (
        "import importlib, json, batchspec._native as n\n"
        "print(json.dumps({m: importlib.import_module(m).__file__ for m in n.COMPILED}))"
    )
    files: dict[str, str] = json.loads(_run(code, pure=pure))
    return files


@pytest.mark.skipif(
    shutil.which(COMPILER.split()[0]) is None
    or os.environ.get(_native.PURE_ENV, "") not in ("", "0"),
    reason="no C compiler here (or BATCHSPEC_PURE is set): installs build Python only",
)
def test_an_install_with_a_compiler_runs_the_compiled_modules() -> None:
    assert _native.compiled_usable(), (
        f"no build matching the sources: run scripts/setup ({_native.RECORD})"
    )
    assert _native.in_use()
    assert all(not file.endswith(".py") for file in _module_files(pure=False).values())


def test_batchspec_pure_imports_every_listed_module_from_its_source() -> None:
    files = _module_files(pure=True)
    assert files == {m: str(_native.source_of(m)) for m in _native.COMPILED}


def test_a_record_that_does_not_match_the_sources_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(_native.PURE_ENV, raising=False)
    record = tmp_path / "_native.txt"
    monkeypatch.setattr(_native, "RECORD", record)
    assert not _native.compiled_usable()  # no build at all
    record.write_text(_native.record_text(), encoding="ascii")
    assert _native.compiled_usable()
    first = _native.COMPILED[0]
    record.write_text(_native.record_text().replace(_native.checksum(first), "00000000"))
    assert not _native.compiled_usable()  # one source edited since the build
    record.write_bytes(b"\xff\xfe")
    assert not _native.compiled_usable()  # a damaged record
    monkeypatch.setenv(_native.PURE_ENV, "1")
    record.write_text(_native.record_text(), encoding="ascii")
    assert not _native.compiled_usable()


def test_the_finder_stands_aside_for_other_modules() -> None:
    finder = _native._FromSource()
    assert finder.find_spec("batchspec.validate.paths") is None
    spec = finder.find_spec("batchspec.load.guard")
    assert spec is not None and spec.origin == str(_native.source_of("batchspec.load.guard"))


def _write_cases(folder: Path) -> None:
    for number, case in enumerate(ALL_CASES):
        text = yaml.safe_dump(case.document(), sort_keys=False)
        (folder / f"case_{number:04d}.yaml").write_text(text, encoding="utf-8")


def test_compiled_and_python_modules_report_the_same(tmp_path: Path) -> None:
    """Every rule case, plus the repository's specs, validated by both: the
    same diagnostics, byte for byte (the rest of the suite runs whichever
    this install has, so this is where the other one is held to it)."""
    _write_cases(tmp_path)
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    code = (
        "import sys\nfrom batchspec.cli.main import main\n"
        f"sys.exit(main(['validate', '-o', 'json', {str(tmp_path)!r}]) > 1)"
    )
    compiled, pure = _run(code, pure=False), _run(code, pure=True)
    report: dict[str, Any] = json.loads(pure)
    assert report["files"] > len(ALL_CASES) and report["diagnostics"]  # a real comparison
    assert compiled == pure


def test_the_reach_table_is_what_the_sources_cite() -> None:
    code = (
        "from batchspec.validate.rules import SPEC_RULES, TARGET_RULES\n"
        "from batchspec.validate.rules.reach import table_text\n"
        "print(table_text((*SPEC_RULES, *TARGET_RULES)), end='')"
    )
    fresh = _run(code, pure=True)
    assert (REPO / "batchspec" / "data" / "reach.json").read_text(encoding="utf-8") == fresh, (
        "batchspec/data/reach.json is stale: run scripts/regen-schema"
    )
