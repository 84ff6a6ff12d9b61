"""A Model document's container on this machine: the image under a container
engine when one answers (skipped, with the reason, where none does), else
its host command under the same Vertex AI contract, else BS500."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from batchspec.cli.main import main
from batchspec.engine.errors import ModelLoadError
from batchspec.engine.runners import RunnerContext, load_runner
from batchspec.engine.runners.container import find_engine, image_command
from batchspec.model.runners import ContainerRunner
from batchspec.testing.specs import host_model_doc
from tests.engine.conftest import HELPERS, Workspace

ENGINE = find_engine()


def runner(**settings: Any) -> ContainerRunner:
    return ContainerRunner.model_validate(
        {"runner": "container", "image": "us-docker.pkg.dev/p/r/server:1", **settings}
    )


def fake_engine(folder: Path, name: str, script: str) -> None:
    """A `docker` on PATH that only answers `info` as a real client would."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_a_client_without_a_daemon_is_no_engine(tmp_path: Path, monkeypatch) -> None:
    said = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    fake_engine(tmp_path, "docker", f'echo "{said} Is the docker daemon running?" >&2; exit 1\n')
    monkeypatch.setenv("PATH", str(tmp_path))
    check = find_engine()
    assert check.engine is None
    assert "docker is on PATH, but its daemon does not answer: Cannot connect" in check.reason
    assert "podman is not on PATH" in check.reason


def test_a_daemon_that_answers_is_the_engine(tmp_path: Path, monkeypatch) -> None:
    fake_engine(tmp_path, "podman", 'echo "5.4.0"\n')
    monkeypatch.setenv("PATH", str(tmp_path))
    check = find_engine()
    assert check.engine == str(tmp_path / "podman") and check.reason == "podman 5.4.0"


def test_the_image_runs_under_the_contract_with_a_memory_limit(tmp_path: Path) -> None:
    cfg = runner(
        command=["python", "-m", "server"],
        args=["--workers=1"],
        env={"MODEL_NAME": "reviews"},
        port=8081,
        predictRoute="/p",
        storageUri="gs://bucket/model/",
        memory="512Mi",
    )
    ctx = RunnerContext(spec_dir=tmp_path, job_name="scores", batch_size=4)
    argv = image_command("docker", cfg, ctx, 40123, "bs-1")
    assert argv[:7] == ["docker", "run", "--rm", "--name", "bs-1", "-p", "127.0.0.1:40123:8081"]
    assert argv[argv.index("--memory") + 1] == f"{512 * 2**20}b"
    env = [argv[i + 1] for i, a in enumerate(argv) if a == "-e"]
    assert "AIP_HTTP_PORT=8081" in env and "AIP_PREDICT_ROUTE=/p" in env
    assert "AIP_HEALTH_ROUTE=/health" in env and "AIP_STORAGE_URI=gs://bucket/model/" in env
    assert "MODEL_NAME=reviews" in env and "AIP_MODE=PREDICTION" in env
    assert argv[argv.index("--entrypoint") + 1] == "python"
    assert argv[-4:] == ["us-docker.pkg.dev/p/r/server:1", "-m", "server", "--workers=1"]


def test_without_an_engine_the_host_command_serves_the_same_contract(
    tmp_path: Path, monkeypatch, capfd
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker, no podman
    server = [sys.executable, str(HELPERS / "model_server.py")]
    cfg = runner(hostCommand=server, env={"MODE": "ok"}, healthRoute="/h", predictRoute="/p")
    ctx = RunnerContext(spec_dir=tmp_path, job_name="scores", batch_size=4, log_dir=tmp_path)
    model = load_runner(cfg, ctx)
    try:
        assert len(model.predict([{"a": 1}, {"a": 2}])) == 2
    finally:
        model.close()
    assert "[BS500 no-container-engine]" in capfd.readouterr().err


def test_without_an_engine_or_a_host_command_the_job_fails_plainly(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = RunnerContext(spec_dir=tmp_path, job_name="scores", batch_size=4)
    with pytest.raises(ModelLoadError, match=r"^\[BS500 no-container-engine\] image ") as info:
        load_runner(runner(), ctx)
    assert "docker is not on PATH" in info.value.message
    assert "local.command" in (info.value.hint or "")


@pytest.mark.skipif(ENGINE.engine is None, reason=f"no container engine: {ENGINE.reason}")
def test_a_real_image_answers_under_the_contract(tmp_path: Path) -> None:
    """Any image with python3 on PATH; it must already be in the engine's
    store (tests pull nothing)."""
    import subprocess

    assert ENGINE.engine is not None
    image = os.environ.get("BATCHSPEC_TEST_IMAGE", "python:3.11-slim")
    inspect = [ENGINE.engine, "image", "inspect", image]
    if subprocess.run(inspect, capture_output=True, check=False).returncode != 0:
        pytest.skip(f"image {image} is not in the engine's store (set BATCHSPEC_TEST_IMAGE)")
    server = (HELPERS / "model_server.py").read_text()
    cfg = runner(image=image, command=["python3", "-c", server], env={"MODE": "ok"})
    ctx = RunnerContext(spec_dir=tmp_path, job_name="scores", batch_size=4, log_dir=tmp_path)
    model = load_runner(cfg, ctx)
    try:
        assert len(model.predict([{"a": 1}])) == 1
    finally:
        model.close()


def test_a_local_job_runs_the_models_container_end_to_end(
    ws: Workspace, monkeypatch, capsys
) -> None:
    """`model: {ref}` on the local engine: the Model document's host command
    (no engine here, or `engine: host`), run from the Model's folder."""
    ws.jsonl("in/a.jsonl", [{"id": i, "a": i} for i in range(5)])
    server = [sys.executable, str(HELPERS / "model_server.py")]
    model = host_model_doc(server)
    job = {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": {"name": "scores"},
        "spec": {
            "target": "local",
            "model": {"ref": "scorer"},
            "input": {"format": "JSONL", "paths": ["in/*"], "keyField": "id"},
            "output": {"path": "out/"},
        },
    }
    spec = ws.write("spec.yaml", json.dumps(model) + "\n---\n" + json.dumps(job))
    code = main(["run", str(spec), "--name", "scores", "--home", str(ws.root / "home")])
    text = "".join(capsys.readouterr())
    assert code == 0, text
    assert "scores SUCCEEDED: 5 predictions, 0 failed" in text
