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
