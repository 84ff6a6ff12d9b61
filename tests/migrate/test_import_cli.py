"""`batchspec import`: files, stdin, -o, exit codes, no tracebacks."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from batchspec.cli.main import main
from batchspec.validate import validate_paths
from tests.migrate.test_body import BODY

Run = Callable[..., tuple[int, str, str]]
COMMAND = (
    "gcloud ml-engine jobs submit prediction census_batch --model census --version v2"
    " --input-paths gs://bucket/in/* --output-path gs://bucket/out/ --region us-central1"
    " --data-format text --project acme-ml"
)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    def invoke(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_stdin_to_stdout(run: Run) -> None:
    code, out, err = run("import", "-", stdin=COMMAND)
    assert code == 0 and "BS295" in err  # imported as ML Engine, told how to move on
    assert "# Imported by `batchspec import` from stdin" in out
    assert "name: census_batch" in out


def test_file_to_file_and_the_result_renders(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "job.json"
    source.write_text(json.dumps(BODY))
    target = tmp_path / "specs" / "job.yaml"
    target.parent.mkdir()
    code, out, err = run("import", str(source), "-o", str(target))
    assert code == 0 and out == ""
    assert f"wrote {target} (census_20180101)" in err
    assert validate_paths([str(target)]).ok
    code, out, _ = run("render", str(target))
    assert code == 0 and json.loads(out)["body"]["predictionInput"]["batchSize"] == "32"


def test_refuses_to_overwrite_without_force(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "job.yaml"
    target.write_text("keep me")
    code, _, err = run("import", "-", "-o", str(target), stdin=COMMAND)
    assert code == 1 and "exists" in err and "--force" in err
    assert target.read_text() == "keep me"
    code, _, _ = run("import", "-", "-o", str(target), "--force", stdin=COMMAND)
    assert code == 0 and "census_batch" in target.read_text()


def test_malformed_input_exits_1_without_traceback(run: Run) -> None:
    code, out, err = run(
        "import", "-", stdin=COMMAND.replace("--data-format text", "--data-format csv")
    )
    assert code == 1 and out == ""
    assert err.startswith("error: cannot import gcloud command: 1 problem(s)")
    assert "--data-format: 'csv' is not a data format" in err
    assert "Traceback" not in err


def test_set_and_name_options(run: Run) -> None:
    script = COMMAND.replace("census_batch", "$JOB")
    code, _, err = run("import", "-", stdin=script)
    assert code == 1 and "pass --set JOB=VALUE" in err
    code, out, _ = run("import", "-", "--set", "JOB=nightly", stdin=script)
    assert code == 0 and "name: nightly" in out
    code, out, _ = run("import", "-", "--name", "renamed", stdin=script.replace("$JOB", "x"))
    assert code == 0 and "name: renamed" in out
    code, _, err = run("import", "-", "--set", "not an assignment", stdin=script)
    assert code == 1 and "NAME=VALUE" in err


def test_from_forces_the_input_kind(run: Run) -> None:
    code, _, err = run("import", "-", "--from", "json", stdin=COMMAND)
    assert code == 1 and "cannot import JSON" in err


def test_missing_file(run: Run) -> None:
    code, _, err = run("import", "/nonexistent/job.json")
    assert code == 1 and "no such file" in err


def test_warnings_go_to_stderr(run: Run) -> None:
    code, out, err = run("import", "-", stdin=COMMAND + " --runtime-version 1.15")
    assert code == 0
    assert "warning: census_batch: --runtime-version: runtimeVersion with a deployed model" in err
    assert "Note: --runtime-version" in out
