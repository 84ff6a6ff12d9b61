"""The rules of recurring specs, as `validate` reports them: file:line:col,
a stable code, and a hint that says what would work."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batchspec.validate import validate_paths

HEAD = """\
apiVersion: batchspec.dev/v1
kind: BatchPredictionJob
metadata:
  name: nightly
spec:
  target: {target}
  model: {model}
  input:
    format: JSONL
    paths: ['{input}']
  output:
    path: {output}
"""
LOCAL = {"target": "local", "model": "{local: {runner: python, callable: 'pkg.mod:predict'}}"}
VERTEX = {
    "target": "vertex",
    "model": "{resource: projects/p-123456/locations/us-central1/models/1}",
}


def spec_text(
    schedule: str = "", *, input: str = "data/*", output: str, cloud: bool = False
) -> str:
    base = VERTEX if cloud else LOCAL
    text = HEAD.format(input=input, output=output, **base)
    if cloud:
        text = text.replace("  model:", "  project: p-123456\n  region: us-central1\n  model:")
    return text + schedule


def diagnose(write_spec: Callable[..., Path], text: str) -> list[tuple[str, int, int, str, Any]]:
    path = write_spec(text)
    result = validate_paths([str(path)])
    return [(d.code, d.line, d.column, d.message, d.hint) for d in result.diagnostics]


NIGHTLY = "  schedule:\n    cron: '30 2 * * *'\n    timeZone: Europe/Berlin\n"


def test_a_valid_schedule_with_run_variables_passes(write_spec) -> None:
    assert diagnose(write_spec, spec_text(NIGHTLY, output="out/{run.date}")) == []
    macro = "  schedule: {cron: '@daily'}\n"
    assert diagnose(write_spec, spec_text(macro, output="out/{run.id}")) == []
    cloud = spec_text(
        NIGHTLY, input="gs://bucket/in/*", output="gs://bucket/out/{run.date}/", cloud=True
    )
    assert diagnose(write_spec, cloud) == []


@pytest.mark.parametrize(
    ("cron", "needle"),
    [
        ("30 2 * *", "has 4"),
        ("0 30 2 * * *", "has 6"),  # cronsim's seconds field: no other cron has it
        ("61 2 * * *", "invalid cron expression"),
        ("@nightly", "unknown cron macro"),
    ],
)
def test_a_bad_cron_expression_is_bs291_at_its_line(write_spec, cron: str, needle: str) -> None:
    schedule = f"  schedule:\n    cron: '{cron}'\n"
    [(code, line, col, message, hint)] = diagnose(
        write_spec, spec_text(schedule, output="out/{run.id}")
    )
    assert (code, line, col) == ("BS291", 14, 11) and needle in message and hint


def test_an_unknown_zone_is_bs292_with_a_suggestion(write_spec) -> None:
    schedule = "  schedule:\n    cron: '0 2 * * *'\n    timeZone: Europe/Berln\n"
    [(code, line, col, message, hint)] = diagnose(
        write_spec, spec_text(schedule, output="out/{run.date}")
    )
    assert (code, line, col) == ("BS292", 15, 15)
    assert "Europe/Berln" in message and hint == "did you mean `Europe/Berlin`?"


def test_a_bad_starting_deadline_is_refused(write_spec) -> None:
    schedule = NIGHTLY + "    startingDeadline: soon\n"
    found = diagnose(write_spec, spec_text(schedule, output="out/{run.date}"))
    assert found and all(line == 16 for _, line, *_ in found)


def test_an_unknown_run_variable_is_bs293_with_a_suggestion(write_spec) -> None:
    [(code, line, _col, message, hint)] = diagnose(
        write_spec, spec_text(NIGHTLY, output="out/{run.dat}")
    )
    assert (code, line) == ("BS293", 12) and "{run.dat}" in message
    assert hint == "did you mean `{run.date}`?"


def test_a_run_variable_in_a_spec_that_runs_once_is_bs293(write_spec) -> None:
    [(code, line, _col, message, _hint)] = diagnose(write_spec, spec_text(output="out/{run.date}"))
    assert (code, line) == ("BS293", 12) and "runs once" in message


def test_runs_that_would_overwrite_each_other_are_bs294(write_spec) -> None:
    [(code, line, _c, message, hint)] = diagnose(write_spec, spec_text(NIGHTLY, output="out/"))
    assert (code, line) == ("BS294", 12) and "every run would write to" in message
    assert hint == "add a run variable, e.g. out/{run.date}/"
    hourly = "  schedule: {cron: '0 * * * *'}\n"
    [(code, _l, _c, message, _h)] = diagnose(write_spec, spec_text(hourly, output="out/{run.date}"))
    assert code == "BS294" and "would both write to" in message


def test_an_input_trigger_alone_needs_run_id_and_fixed_inputs(write_spec) -> None:
    trigger = "  trigger: inputs\n"
    [(code, *_rest)] = diagnose(write_spec, spec_text(trigger, output="out/{run.date}"))
    assert code == "BS294"
    assert diagnose(write_spec, spec_text(trigger, output="out/{run.id}")) == []
    moving = spec_text(trigger, input="data/{run.date}/*", output="out/{run.id}")
    [(code, line, _c, message, hint)] = diagnose(write_spec, moving)
    assert (code, line) == ("BS293", 10) and "must be fixed paths" in message and hint
