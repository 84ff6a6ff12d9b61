"""`batchspec import` of hostile input: a clear error, never a hang, a
traceback or a control character written into a spec."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from batchspec.cli import import_
from batchspec.cli.main import main
from batchspec.migrate import MigrationError, import_text
from tests.migrate.test_body import BODY
from tests.migrate.test_import_cli import COMMAND


def problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(MigrationError) as caught:
        import_text(text, **kwargs)  # type: ignore[arg-type]
    return [f"{p.where}: {p.message}" for p in caught.value.problems]


def test_exponential_variable_expansion_stops() -> None:
    lines = ["A=xxxxxxxxxx"] + [f"{chr(66 + i)}=${chr(65 + i)}${chr(65 + i)}" for i in range(40)]
    script = "\n".join(lines) + "\n" + COMMAND.replace("--model census", "--model $Z") + "\n"
    [found] = problems(script)
    assert "longer than 65,536 characters" in found and found.startswith("line ")


def test_exponential_expansion_on_one_line_stops() -> None:
    script = "A=" + "x" * 1000 + "\n" + COMMAND.replace("census_batch", "$A" * 100) + "\n"
    [found] = problems(script)
    assert "expanding $A" in found


def test_trailing_nul_is_refused_not_written() -> None:
    [found] = problems(COMMAND + "\x00")
    assert (
        found == f"line 1 column {len(COMMAND) + 1}: holds the control character U+0000;"
        " import reads text"
    )


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f"])
def test_control_characters_in_json_values_are_refused(char: str) -> None:
    body = json.loads(json.dumps(BODY))
    body["predictionInput"]["region"] = "us-central1" + char
    assert problems(json.dumps(body)) == ["predictionInput.region: holds a control character"]


def test_lone_surrogate_in_json_is_refused() -> None:
    body = json.loads(json.dumps(BODY))
    body["predictionInput"]["region"] = "us-east1\ud800"
    text = json.dumps(body)
    assert "\\ud800" in text
    assert problems(text) == [
        "predictionInput.region: holds a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF escape)"
    ]


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_100k_deep_json_is_refused(opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    text = opening * 100_000 + ("1" if opening != "[" else "") + closing * 100_000
    assert problems(text) == ["<top level>: nested too deeply to read"]


def test_huge_counts_are_out_of_range() -> None:
    body = json.loads(json.dumps(BODY))
    body["predictionInput"]["maxWorkerCount"] = "9" * 30
    assert any("maxWorkerCount" in p for p in problems(json.dumps(body)))
    body["predictionInput"]["maxWorkerCount"] = "9" * 5000  # past int()'s digit limit
    assert any("maxWorkerCount" in p for p in problems(json.dumps(body)))


def test_oversized_input_is_refused_without_reading_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(import_, "MAX_INPUT_BYTES", 1024)
    path = tmp_path / "big.json"
    path.write_text(" " * 4096 + json.dumps(BODY))
    assert main(["import", str(path)]) == 1
    assert "larger than" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"x" * 4096)))
    assert main(["import", "-"]) == 1
    err = capsys.readouterr().err
    assert "stdin is larger than" in err and "Traceback" not in err


def test_binary_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "job.json"
    path.write_bytes(b"\xff\xfe{}")
    assert main(["import", str(path)]) == 1
    assert "not UTF-8" in capsys.readouterr().err


def test_endless_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "/dev/zero"]) == 1
    assert "larger than 16 MiB" in capsys.readouterr().err
