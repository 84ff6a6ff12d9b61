"""Secrets stay out of renders, plans, state and job files, end to end.

One local job whose command runner gets a token from `${env:...}`, a literal
password under a secret-looking key and a value under a key the spec marks
secret. The command proves it received the real values (it prints their
digests); nothing batchspec writes or prints holds them."""

from __future__ import annotations

import hashlib
import json
import stat
import sys
from pathlib import Path

import pytest

from batchspec.cli.main import main

HERE = Path(__file__).resolve().parent
TOKEN = "tok-6f1d2c9a8b7e"
TOKEN_2 = "tok-rotated-0000"
PASSWORD = "hunter2-literal-pw"
MARKED = "postgres://scorer@db/prod-marked"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def spec_doc(password: str = PASSWORD) -> dict[str, object]:
    return {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": {"name": "scorer", "secretKeys": ["DSN"]},
        "spec": {
            "target": "local",
            "model": {
                "local": {
                    "runner": "command",
                    "command": [sys.executable, str(HERE / "token_command.py")],
                    "env": {
                        "API_TOKEN": "${env:BS_TEST_TOKEN}",
                        "DB_PASSWORD": password,
                        "DSN": MARKED,
                    },
                }
            },
            "input": {"format": "JSONL", "paths": ["in.jsonl"], "keyField": "id"},
            "output": {"path": "out"},
            "resources": {"maxWorkerCount": 1},
        },
    }


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BATCHSPEC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BATCHSPEC_STATE", str(tmp_path / "state.db"))
    monkeypatch.setenv("BS_TEST_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": i}) + "\n" for i in range(5)))
    (tmp_path / "job.yaml").write_text(json.dumps(spec_doc()))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_clean(text: str, where: str) -> None:
    for secret in (TOKEN, PASSWORD, MARKED):
        assert secret not in text, f"{secret!r} leaked into {where}"


def test_render_and_every_plan_format_hide_secrets(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(capsys, "render", "job.yaml")
    assert code == 0, text
    assert_clean(text, "render")
    env = json.loads(text)["body"]["spec"]["model"]["local"]["env"]
    assert env == {
        "API_TOKEN": "${env:BS_TEST_TOKEN}",
        "DB_PASSWORD": "<redacted>",
        "DSN": "<redacted>",
    }
    for args in (["--diff"], ["-o", "markdown"], ["-o", "json"], ["--out", "plan.json"]):
        code, text = run(capsys, "plan", "job.yaml", *args)
        assert code == 2, text
        assert_clean(text, f"plan {' '.join(args)}")
        if args[0] != "--out":
            assert "${env:BS_TEST_TOKEN}" in text, "the reference is what a reviewer sees"
    assert_clean((ws / "plan.json").read_text(), "the saved plan")


def test_a_job_runs_with_its_secrets_and_keeps_none(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(capsys, "apply", "job.yaml", "--wait", "--no-progress")
    assert code == 0, text
    assert_clean(text, "apply's output")
    rows = [json.loads(line) for line in next((ws / "out").glob("prediction.results-*")).open()]
    assert {json.dumps(r["prediction"], sort_keys=True) for r in rows} == {
        json.dumps({"password": digest(PASSWORD), "token": digest(TOKEN)}, sort_keys=True)
    }, "the command got the resolved token and the literal password"

    (job_dir,) = (ws / "home" / "jobs").iterdir()
    job_json = job_dir / "job.json"
    assert stat.S_IMODE(job_json.stat().st_mode) == 0o600
    record = job_json.read_text()
    assert_clean(record, "job.json")
    assert "${env:BS_TEST_TOKEN}" in record and "<redacted>" in record
    kept = job_dir / "secrets.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert PASSWORD in kept.read_text() and TOKEN not in kept.read_text()
    for path in job_dir.rglob("*"):
        if path.is_file() and path != kept:
            assert_clean(path.read_bytes().decode("utf-8", "replace"), str(path))
    for path in ws.glob("state.db*"):
        assert_clean(path.read_bytes().decode("latin-1"), str(path))
    code, text = run(capsys, "get", "scorer", "--body")
    assert code == 0 and "${env:BS_TEST_TOKEN}" in text
    assert_clean(text, "get --body")


def test_rotating_a_secret_keeps_the_job(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, first = run(capsys, "render", "job.yaml")
    monkeypatch.setenv("BS_TEST_TOKEN", TOKEN_2)
    code, second = run(capsys, "render", "job.yaml")
    assert json.loads(first)["fingerprint"] == json.loads(second)["fingerprint"]
    assert run(capsys, "apply", "job.yaml")[0] == 0
    code, text = run(capsys, "plan", "job.yaml")
    assert code == 0, "a new token value is not a new revision: " + text


def test_a_missing_variable_is_a_clear_error_at_plan_and_apply(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BS_TEST_TOKEN")
    for command in ("plan", "apply"):
        code, text = run(capsys, command, "job.yaml")
        assert code == 1, text
        assert "scorer: environment variable(s) not set: BS_TEST_TOKEN" in text
        assert "Traceback" not in text
    assert not (ws / "home" / "jobs").exists(), "nothing was submitted"


def test_a_saved_plan_applies_with_the_values_it_could_not_hold(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "plan", "job.yaml", "--out", "plan.json")[0] == 2
    code, text = run(capsys, "apply", "plan.json", "--wait", "--no-progress")
    assert code == 0, text
    rows = next((ws / "out").glob("prediction.results-*")).read_text()
    assert digest(PASSWORD) in rows


def test_a_saved_plan_whose_secret_changed_is_refused(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "plan", "job.yaml", "--out", "plan.json")[0] == 2
    (ws / "job.yaml").write_text(json.dumps(spec_doc(password="another-password")))
    code, text = run(capsys, "apply", "plan.json")
    assert code == 1
    assert "holds redacted values" in text and "no longer compiles to the planned revision" in text
    assert not (ws / "home" / "jobs").exists()


def test_the_engine_fails_clearly_when_the_variable_is_gone_at_run_time(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resumed later from a shell without the variable: the job fails naming
    it, and the value is never looked for anywhere else."""
    from batchspec.backends.local import LocalBackend
    from batchspec.compile import compile_spec
    from batchspec.validate import validate_paths

    (loaded,) = validate_paths(["job.yaml"]).specs
    job = compile_spec(loaded.spec, source=loaded.file)
    monkeypatch.delenv("BS_TEST_TOKEN")
    remote = LocalBackend(ws / "home").run_inline(job, max_workers=1)
    assert remote.state.value == "FAILED"
    assert remote.error == (
        "environment variable(s) not set: BS_TEST_TOKEN (at spec.model.local.env.API_TOKEN)"
    )
