"""Hostile and broken files: a clear diagnostic and exit 1, never a traceback,
never code execution."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from batchspec.cli.main import main
from tests.conftest import VALID_VERTEX

BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

CASES: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "BS007"),
    "only-comments": (b"# nothing here\n", "BS007"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "BS006"),
    "latin1": ("name: caf\xe9\n".encode("latin-1"), "BS006"),
    "top-level-list": (b"- a\n- b\n", "BS008"),
    "scalar": (b"just text\n", "BS008"),
    "tabs": (b"apiVersion: batchspec.dev/v1\nspec:\n\ttarget: local\n", "BS002"),
    "unclosed-bracket": (b"metadata: {name: x\nspec: [1, 2\n", "BS002"),
    "duplicate-key": (VALID_VERTEX.replace("kind:", "kind: X\nkind:").encode(), "BS003"),
    "python-tag": (b"x: !!python/object/apply:os.system ['touch /tmp/pwned-bs']\n", "BS004"),
    "custom-tag": (b"x: !Ref foo\n", "BS004"),
    "alias-bomb": (BOMB.encode(), "BS009"),
    "deep-nesting": (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "BS009"),
}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    content, code = CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    rc, out, err = run_cli(["validate", "-o", "json", str(path)], capsys)
    report = json.loads(out)
    assert rc == 1
    assert [d["code"] for d in report["diagnostics"]] == [code]
    assert "Traceback" not in out + err
    assert not Path("/tmp/pwned-bs").exists()


def test_syntax_error_has_numbered_excerpt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("metadata:\n  name: x\nspec:\n\ttarget: local\n")
    rc, out, _ = run_cli(["validate", str(path)], capsys)
    assert rc == 1
    assert f"{path}:4:1: error[BS002 yaml-syntax]" in out
    assert "hint: YAML indents with spaces; replace the tab" in out
    assert "4 | \ttarget: local" in out and "  | ^" in out


def test_huge_file_is_refused_without_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# " + b"x" * (30 << 20) + b"\n")
    rc, out, _ = run_cli(["validate", str(path)], capsys)
    assert rc == 1 and "BS005 file-too-large" in out and "30.0 MiB" in out


def test_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(["validate", str(tmp_path / "nope.yaml")], capsys)
    assert rc == 1 and "BS001" in out


def test_folder_without_specs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    rc, out, _ = run_cli(["validate", str(tmp_path)], capsys)
    assert rc == 1 and "BS010" in out


def test_warnings_pass_unless_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(VALID_VERTEX + "  signatureName: serving_default\n")
    assert run_cli(["validate", str(path)], capsys)[0] == 0
    assert run_cli(["validate", "--strict", str(path)], capsys)[0] == 1


def test_valid_file_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(VALID_VERTEX)
    rc, out, _ = run_cli(["validate", "--output", "json", str(path)], capsys)
    assert rc == 0
    assert json.loads(out) == {
        "ok": True,
        "files": 1,
        "specs": 1,
        "errors": 0,
        "warnings": 0,
        "diagnostics": [],
    }


def test_cli_entry_point_and_module_agree(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- a\n")
    proc = subprocess.run(
        [sys.executable, "-m", "batchspec", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "BS008" in proc.stdout and "Traceback" not in proc.stderr


# Nested tens of thousands deep, these crashed the C loaders (SIGSEGV) or took
# minutes in the pure-Python ones; they run in a subprocess so a crash is a
# failed test, not a lost test worker.
DEEP = {
    "flow-seq-30k": "a: " + "[" * 30_000 + "]" * 30_000 + "\n",
    "flow-map-30k": "a: " + "{a: " * 30_000 + "1" + "}" * 30_000 + "\n",
    "block-seq-30k": "a:\n  " + "- " * 30_000 + "x\n",
    "flow-seq-10k": "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "block-map-1k": "".join(" " * i + f"k{i}:\n" for i in range(1_000)) + " " * 1_000 + "x: 1\n",
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deep_nesting_is_refused_before_parsing(tmp_path: Path, case: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP[case])
    proc = subprocess.run(
        [sys.executable, "-m", "batchspec", "validate", "-o", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert proc.returncode == 1, proc.stderr[-500:]
    report = json.loads(proc.stdout)
    assert [d["code"] for d in report["diagnostics"]] == ["BS009"]
    assert "deeper than 100 levels" in report["diagnostics"][0]["message"]


def test_many_documents_with_one_name_are_located_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from batchspec.load import positions

    calls: list[int] = []
    compose = positions._compose

    def counting(text: str) -> list[object]:
        calls.append(len(text))
        return compose(text)

    monkeypatch.setattr(positions, "_compose", counting)
    path = tmp_path / "many.yaml"
    path.write_text("---\n".join([VALID_VERTEX] * 2_000))
    rc, out, _ = run_cli(["validate", "-o", "json", str(path)], capsys)
    report = json.loads(out)
    assert rc == 1 and report["specs"] == 1
    duplicates = [d for d in report["diagnostics"] if d["code"] == "BS203"]
    assert len(duplicates) == 1_999 == len(report["diagnostics"])
    lines_per_doc = VALID_VERTEX.count("\n") + 1
    assert [d["line"] for d in duplicates] == [
        4 + lines_per_doc * n for n in range(1, 2_000)
    ]  # `name:` of each later document
    assert len(calls) == 1  # positions composed once for the file


def test_lone_surrogate_is_refused_at_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(VALID_VERTEX + '  modelParameters:\n    x: "\\ud800"\n    ok: "\\u00e9"\n')
    rc, out, err = run_cli(["validate", "-o", "json", str(path)], capsys)
    report = json.loads(out)
    assert rc == 1 and report["specs"] == 0
    [d] = report["diagnostics"]
    assert d["code"] == "BS006" and d["path"] == "spec.modelParameters.x"
    assert d["line"] == VALID_VERTEX.count("\n") + 2
    assert "surrogate" in d["message"] and "Traceback" not in out + err


def test_surrogate_pair_escape_is_refused_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    labels = 'name: scores\n  labels: {"\\ud83d\\ude00": x}'
    path.write_text(VALID_VERTEX.replace("name: scores", labels))
    rc, out, _ = run_cli(["validate", str(path)], capsys)
    assert rc == 1 and "BS006" in out and "\\U00XXXXXX" in out
