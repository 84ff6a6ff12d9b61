"""The custom-container HTTP contract, run locally: every failure of seed 002's
kind is caught with a precise message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from batchspec.engine.errors import InstanceError, ModelContractError, ModelLoadError
from batchspec.engine.runners import RunnerContext, load_runner
from batchspec.model.spec import HttpRunner


def start(cmd: list[str], tmp: Path, mode: str, **kw: Any) -> Any:
    cfg = HttpRunner(
        runner="http",
        command=cmd,
        env={"MODE": mode, "ENV_DUMP": str(tmp / "env.json")},
        healthRoute="/v1/health",
        predictRoute="/v1/predict",
        storageUri="gs://bucket/model/",
        **kw,
    )
    ctx = RunnerContext(
        spec_dir=tmp, job_name="scorer", batch_size=4, log_dir=tmp / "logs",
        parameters={"threshold": 0.5},
    )  # fmt: skip
    return load_runner(cfg, ctx)


def test_contract_variables_and_paired_predictions(server_cmd: list[str], tmp_path: Path) -> None:
    model = start(server_cmd, tmp_path, "ok")
    try:
        out = model.predict([{"a": 1}, {"a": 2}])
        assert [o["echo"] for o in out] == [{"a": 1}, {"a": 2}]
        assert out[0]["params"] == {"threshold": 0.5}
        assert out[0]["model"] == "scorer"
        env = json.loads((tmp_path / "env.json").read_text())
        assert env["AIP_HEALTH_ROUTE"] == "/v1/health"
        assert env["AIP_PREDICT_ROUTE"] == "/v1/predict"
        assert env["AIP_STORAGE_URI"] == "gs://bucket/model/"
        assert env["AIP_MODE"] == "PREDICTION"
        assert env["AIP_MODEL_NAME"] == "scorer"
        assert int(env["AIP_HTTP_PORT"]) > 0
        with pytest.raises(InstanceError) as info:
            model.predict([{"text": "bad"}])
        assert info.value.code == 500 and info.value.status == "INTERNAL"
    finally:
        model.close()


def test_server_ignoring_the_port_never_gets_healthy(server_cmd: list[str], tmp_path: Path) -> None:
    with pytest.raises(ModelContractError, match=r"^\[BS508 never-healthy\]") as info:
        start(server_cmd, tmp_path, "ignore_port", startupTimeoutSeconds=1.5)
    assert "must listen on AIP_HTTP_PORT" in (info.value.hint or "")
    assert "listening on" in (info.value.hint or ""), "the server's own output is shown"


def test_unhealthy_server_reports_its_last_answer(server_cmd: list[str], tmp_path: Path) -> None:
    with pytest.raises(ModelContractError, match="answered 'HTTP 503'"):
        start(server_cmd, tmp_path, "unhealthy", startupTimeoutSeconds=1.0)


def test_server_exiting_at_start(server_cmd: list[str], tmp_path: Path) -> None:
    with pytest.raises(
        ModelContractError, match=r"^\[BS509 exited-at-start\] .*exited with code 3 before"
    ) as info:
        start(server_cmd, tmp_path, "exit")
    assert "model.pkl not found" in (info.value.hint or "")


def test_server_missing_a_module_names_it(server_cmd: list[str], tmp_path: Path) -> None:
    with pytest.raises(ModelContractError, match=r"^\[BS505 missing-dependency\]") as info:
        start(server_cmd, tmp_path, "no_module")
    assert "torch_not_in_this_image" in info.value.message


def test_wrong_number_of_predictions(server_cmd: list[str], tmp_path: Path) -> None:
    model = start(server_cmd, tmp_path, "wrong_count")
    try:
        with pytest.raises(InstanceError, match=r"BS510.* 2 predictions for 3 instances"):
            model.predict([1, 2, 3])
    finally:
        model.close()


def test_crash_in_the_middle_of_a_job(server_cmd: list[str], tmp_path: Path) -> None:
    model = start(server_cmd, tmp_path, "crash")
    try:
        model.predict([1])
        with pytest.raises(
            ModelContractError, match="exited with code 139 while answering"
        ) as info:
            model.predict([2])
        assert "segmentation fault" in (info.value.hint or "")
    finally:
        model.close()


def test_answer_that_is_not_json(server_cmd: list[str], tmp_path: Path) -> None:
    model = start(server_cmd, tmp_path, "not_json")
    try:
        with pytest.raises(InstanceError, match=r"^\[BS510 bad-answer\].*not JSON") as info:
            model.predict([1])
        assert "it begins 'hello'" in info.value.message
    finally:
        model.close()


def test_a_request_past_its_timeout_fails_alone(server_cmd: list[str], tmp_path: Path) -> None:
    """The server still answers its health route: the request's failure, and
    the next request is answered on a new connection."""
    model = start(server_cmd, tmp_path, "ok", requestTimeoutSeconds=1)
    try:
        with pytest.raises(InstanceError, match="did not answer POST /v1/predict") as info:
            model.predict(["stuck"])
        assert info.value.status == "DEADLINE_EXCEEDED" and not info.value.isolate
        assert model.predict([{"a": 1}])[0]["echo"] == {"a": 1}
    finally:
        model.close()


def test_a_dropped_connection_fails_the_request_alone(
    server_cmd: list[str], tmp_path: Path
) -> None:
    model = start(server_cmd, tmp_path, "ok")
    try:
        with pytest.raises(InstanceError, match="dropped the connection") as info:
            model.predict(["dropped"])
        assert info.value.status == "UNAVAILABLE" and info.value.isolate
        assert model.predict([{"a": 1}])[0]["echo"] == {"a": 1}
    finally:
        model.close()


def test_a_server_that_hangs_fails_the_job(server_cmd: list[str], tmp_path: Path) -> None:
    """Stopped (SIGSTOP): neither the request nor the health route answers."""
    import os
    import signal

    model = start(server_cmd, tmp_path, "ok", requestTimeoutSeconds=1)
    os.kill(model._proc.pid, signal.SIGSTOP)
    try:
        with pytest.raises(ModelContractError, match="it hangs"):
            model.predict([1])
    finally:
        os.kill(model._proc.pid, signal.SIGCONT)
        model.close()


def test_missing_program(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no such program"):
        start(["/no/such/server"], tmp_path, "ok")


def test_a_server_past_its_memory_limit_is_killed_and_named(
    server_cmd: list[str], tmp_path: Path
) -> None:
    model = start(server_cmd, tmp_path, "memory", memory="200Mi")
    try:
        with pytest.raises(ModelContractError, match=r"^\[BS506 out-of-memory\]") as info:
            model.predict([1])
        assert "of its 200 MiB limit" in info.value.message
        assert "machineType" in (info.value.hint or "")
    finally:
        model.close()
