"""batchspec's local file contract (AIP_BATCH_INPUT_URIS / AIP_BATCH_OUTPUT_DIR)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from batchspec.engine.errors import ModelContractError
from batchspec.engine.runners import RunnerContext, load_runner
from batchspec.model.spec import CommandRunner


def command(cmd: list[str], tmp: Path, mode: str) -> Any:
    cfg = CommandRunner(runner="command", command=cmd, env={"MODE": mode})
    ctx = RunnerContext(spec_dir=tmp, job_name="t", batch_size=2, log_dir=tmp)
    return load_runner(cfg, ctx)


def test_predictions_come_back_in_order(batch_cmd: list[str], tmp_path: Path) -> None:
    model = command(batch_cmd, tmp_path, "ok")
    assert model.batch_size == 2 * 64, "the command runs once per chunk, not per batch"
    assert list(model.predict([{"n": 1}, {"n": 5}])) == [{"double": 2}, {"double": 10}]


@pytest.mark.parametrize(
    ("mode", "message", "hint"),
    [
        ("fixed_path", "wrote no instances-.* in AIP_BATCH_OUTPUT_DIR", "custom containers"),
        ("short", "wrote 1 predictions for 2 instances", "one JSON prediction per input line"),
        ("fail", "exited with code 2", "ModuleNotFoundError: libgomp"),
        ("garbage", "line 2 of the command's output .* is not JSON", None),
    ],
)
def test_contract_failures_fail_the_job(
    batch_cmd: list[str], tmp_path: Path, mode: str, message: str, hint: str | None
) -> None:
    model = command(batch_cmd, tmp_path, mode)
    with pytest.raises(ModelContractError, match=message) as info:
        model.predict([{"n": 1}, {"n": 2}])
    if hint:
        assert hint in (info.value.hint or "")


def diagnosed(tmp: Path, batch_cmd: list[str], mode: str, **settings: Any) -> Any:
    cfg = CommandRunner.model_validate(
        {"runner": "command", "command": batch_cmd, "env": {"MODE": mode}, **settings}
    )
    ctx = RunnerContext(spec_dir=tmp, job_name="t", batch_size=2, log_dir=tmp, key_field="id")
    with pytest.raises(ModelContractError) as info:
        load_runner(cfg, ctx).predict([{"n": 1}, {"n": 2}])
    return info.value


@pytest.mark.parametrize(
    ("mode", "code", "says", "hint"),
    [
        ("json_load", "BS501", "one JSON instance per line", "json.loads(line)"),
        ("key", "BS503", "'id', the job's key field", "joins each prediction"),
        ("no_module", "BS505", "module 'sklearn_extra_not_installed'", "install it"),
        ("no_library", "BS505", "shared library libbatchspec_missing.so.1", "apt-get install"),
        ("fail", "BS511", "exited with code 2", "ModuleNotFoundError: libgomp"),
        ("fixed_path", "BS504", "wrote no instances-", "fixed paths"),
        ("json_dump", "BS502", "2 predictions as one JSON document", "one JSON prediction per"),
    ],
)
def test_seed_002_failures_are_named_by_cause(
    batch_cmd: list[str], tmp_path: Path, mode: str, code: str, says: str, hint: str
) -> None:
    error = diagnosed(tmp_path, batch_cmd, mode)
    assert error.message.startswith(f"[{code} ")
    assert says in error.message
    assert hint in (error.hint or "")


def test_killed_for_memory_near_its_limit(batch_cmd: list[str], tmp_path: Path) -> None:
    error = diagnosed(tmp_path, batch_cmd, "memory", memory="200Mi")
    assert error.message.startswith("[BS506 out-of-memory]")
    assert "of its 200 MiB limit" in error.message
    assert "machineType" in (error.hint or "") and "`memory`" in (error.hint or "")


def test_a_silent_program_is_stopped_as_hung(batch_cmd: list[str], tmp_path: Path) -> None:
    error = diagnosed(tmp_path, batch_cmd, "hang", hangTimeoutSeconds=1)
    assert error.message.startswith("[BS507 hung]")
    assert "hangTimeoutSeconds" in (error.hint or "")
