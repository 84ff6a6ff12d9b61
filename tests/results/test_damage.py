"""Results are never silently wrong.

Outputs come from real local-engine runs (JSONL and CSV, two shards each);
each test damages a copy the way disks, people and tools do, and the reader
must return what is readable and report the rest with counts, never hang on
a FIFO, a device or a symlink loop."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from batchspec.cli.main import main
from batchspec.results import DamagedOutputError, OutputCheck, read_results
from tests.engine.conftest import Workspace, python_model, spec_doc

ROWS = 20  # per input file; each file is one shard
R0 = "prediction.results-00000-of-00002"
R1 = "prediction.results-00001-of-00002"


def _workspace(root: Path, fmt: str) -> tuple[Workspace, dict[str, object]]:
    """Two input files (one shard each) and a spec writing `fmt`."""
    ws = Workspace(root)
    ws.jsonl("in/a.jsonl", [{"id": i, "text": "x" * i} for i in range(ROWS)])
    ws.jsonl("in/b.jsonl", [{"id": 100 + i, "text": "y" * i} for i in range(ROWS)])
    doc = spec_doc(
        model=python_model("tests.engine.helpers.models:length"),
        input={"format": "JSONL", "paths": ["in/*"], "keyField": "id"},
        output={"path": "out", "format": fmt},
        resources={"maxWorkerCount": 1},
    )
    return ws, doc


def _job(root: Path, fmt: str) -> Path:
    ws, doc = _workspace(root, fmt)
    job = ws.run(doc)
    assert job.state.value == "SUCCEEDED", job.error
    return ws.out()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One finished job per output format (read-only: tests damage copies)."""
    root = tmp_path_factory.mktemp("jobs")
    return {fmt: _job(root / fmt, fmt) for fmt in ("JSONL", "CSV")}


@pytest.fixture(params=["JSONL", "CSV"])
def out(request: pytest.FixtureRequest, written: dict[str, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    shutil.copytree(written[request.param], folder)
    return folder


def read(folder: Path, fmt: str | None = None) -> tuple[list[object], OutputCheck]:
    check = OutputCheck()
    records = list(read_results(str(folder), output_format=fmt, check=check))
    return records, check


def damage_lines(check: OutputCheck) -> list[tuple[str, str, int]]:
    return [(Path(d.file).name, d.problem, d.lines) for d in check.damage]


def test_intact_outputs_read_whole_in_either_format(out: Path) -> None:
    records, check = read(out)
    assert check.ok, check.damage
    assert len(records) == 2 * ROWS and check.records == 2 * ROWS
    assert sorted(r.key for r in records)[:3] == [0, 1, 2]  # type: ignore[attr-defined]
    assert {r.prediction for r in records} == set(range(ROWS))  # type: ignore[attr-defined]


def test_csv_shards_are_read_by_the_jobs_format_without_a_manifest(
    written: dict[str, Path], tmp_path: Path
) -> None:
    """The bug: shards are `prediction.results-*`, never `*.csv`, and were
    parsed as JSON lines (0 rows)."""
    folder = tmp_path / "csv"
    shutil.copytree(written["CSV"], folder)
    (folder / "batchspec-manifest.json").unlink()
    records, check = read(folder, "CSV")
    assert check.ok and len(records) == 2 * ROWS
    assert {(r.key, r.prediction) for r in records} >= {(3, 3), (103, 3)}  # type: ignore[attr-defined]


def test_truncated_shard(out: Path) -> None:
    data = (out / R1).read_bytes()
    (out / R1).write_bytes(data[: len(data) // 2])
    records, check = read(out)
    assert ROWS < len(records) < 2 * ROWS
    problems = damage_lines(check)
    assert sum(n for _, _, n in problems) >= ROWS - (len(records) - ROWS)
    assert any(name == R1 and "missing (truncated:" in text for name, text, _ in problems)


def test_emptied_and_deleted_shards(out: Path) -> None:
    (out / R0).write_bytes(b"")
    (out / R1).unlink()
    records, check = read(out)
    assert records == []
    assert damage_lines(check) == [
        (R0, f"emptied: 0 of {ROWS} record(s) left", ROWS),
        (R1, f"missing ({ROWS} record(s) lost)", ROWS),
    ]


def test_duplicated_lines(out: Path) -> None:
    lines = (out / R0).read_bytes().splitlines(keepends=True)
    (out / R0).write_bytes(b"".join([*lines, *lines[-3:]]))
    records, check = read(out)
    assert len(records) == 2 * ROWS + 3
    ((name, text, count),) = damage_lines(check)
    assert name == R0 and count == 3
    assert f"3 record(s) more than the {ROWS} the manifest lists; 3 duplicated line(s)" in text


@pytest.mark.parametrize("fmt", ["JSONL"])
def test_lines_that_are_not_objects_or_not_utf8(
    fmt: str, written: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(written[fmt], out)
    lines = (out / R0).read_bytes().splitlines(keepends=True)
    lines[2] = b"[1, 2, 3]\n"
    lines[4] = b'"just text"\n'
    lines[6] = b'{"key": 6, "prediction": "\xff\xfe"}\n'
    lines[8] = b"{not json\n"
    (out / R0).write_bytes(b"".join(lines))
    records, check = read(out)
    assert len(records) == 2 * ROWS - 4
    problems = {text.split(" (line")[0]: n for name, text, n in damage_lines(check) if name == R0}
    assert problems["2 line(s) are not JSON objects"] == 2
    assert problems["1 line(s) are not UTF-8"] == 1
    assert problems["1 line(s) are not JSON"] == 1
    assert len(check.damage) == 3, "the bad lines explain the changed digest"
    assert "line 3, 5" in next(d.problem for d in check.damage if "objects" in d.problem)


@pytest.mark.parametrize(
    "make, kind",
    [
        (lambda p: os.symlink("/dev/zero", p), "is a character device, not a file"),
        (lambda p: os.symlink(p.name, p), "is a symlink loop, not a file"),
        (os.mkfifo, "is a FIFO, not a file"),
        (lambda p: p.mkdir(), "is a directory, not a file"),
        (lambda p: os.symlink(p.parent / "nowhere", p), "is a broken symlink, not a file"),
    ],
)
def test_things_that_are_not_files_are_reported_never_opened(out: Path, make, kind) -> None:  # type: ignore[no-untyped-def]
    (out / R1).unlink()
    make(out / R1)
    result: list[tuple[list[object], OutputCheck]] = []
    reader = threading.Thread(target=lambda: result.append(read(out)), daemon=True)
    reader.start()
    reader.join(120)
    assert not reader.is_alive(), "reading hung"
    records, check = result[0]
    assert len(records) == ROWS
    assert damage_lines(check) == [(R1, f"{kind} ({ROWS} record(s) lost)", ROWS)]


def test_a_manifest_that_is_a_device_is_reported(out: Path) -> None:
    (out / "batchspec-manifest.json").unlink()
    os.symlink("/dev/zero", out / "batchspec-manifest.json")
    fmt = "CSV" if (out / R0).read_bytes().startswith(b"key,") else None
    records, check = read(out, fmt)
    assert len(records) == 2 * ROWS
    assert damage_lines(check) == [
        (
            "batchspec-manifest.json",
            "unreadable manifest: batchspec-manifest.json is a character device, not a file",
            0,
        )
    ]


def test_a_file_the_job_did_not_write_is_reported(out: Path) -> None:
    shutil.copy(out / R0, out / "prediction.results-00002-of-00003")
    records, check = read(out)
    assert len(records) == 2 * ROWS
    ((name, text, _),) = damage_lines(check)
    assert name == "prediction.results-00002-of-00003" and "not in the job's manifest" in text


def test_without_a_check_damage_raises_after_the_records(out: Path) -> None:
    (out / R1).unlink()
    seen = []
    with pytest.raises(DamagedOutputError, match=rf"{R1}: missing \({ROWS} record"):
        for record in read_results(str(out)):
            seen.append(record)
    assert len(seen) == ROWS


def test_cloud_style_outputs_without_a_manifest(tmp_path: Path) -> None:
    """Vertex AI writes no manifest: lines that do not parse are still counted,
    and a missing results shard is named from the `-of-NNNNN` names."""
    good = [json.dumps({"key": i, "prediction": i}) for i in range(5)]
    (tmp_path / "predictions_00001.jsonl").write_text("\n".join([*good, "{cut"]) + "\n")
    (tmp_path / "errors_00001.jsonl").write_text("7\n")
    records, check = read(tmp_path)
    assert len(records) == 5
    assert damage_lines(check) == [
        ("predictions_00001.jsonl", "1 line(s) are not JSON (line 6)", 1),
        ("errors_00001.jsonl", "1 line(s) are not JSON objects (line 1)", 1),
    ]
    ml = tmp_path / "ml"
    ml.mkdir()
    (ml / "prediction.results-00000-of-00003").write_text(good[0] + "\n")
    (ml / "prediction.results-00002-of-00003").write_text(good[1] + "\n")
    records, check = read(ml)
    assert len(records) == 2
    assert damage_lines(check) == [
        ("prediction.results-00001-of-00003", "missing (results shard 2 of 3)", 0)
    ]


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A CSV job applied through the CLI and followed to its end; (state, output)."""
    monkeypatch.setenv("BATCHSPEC_HOME", str(tmp_path / "home"))
    ws, doc = _workspace(tmp_path, "CSV")
    spec = ws.write("job.yaml", json.dumps(doc))
    state = tmp_path / "state.db"
    assert main(["apply", str(spec), "--wait", "--no-progress", "--state", str(state)]) == 0
    return state, ws.out()


def test_results_of_a_csv_job_and_of_a_damaged_one(
    applied: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state, out = applied
    capsys.readouterr()
    assert main(["results", "test_job", "--state", str(state)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 * ROWS and {r["outcome"] for r in rows} == {"predicted"}
    assert {(r["key"], r["prediction"]) for r in rows} >= {(5, 5), (105, 5)}

    data = (out / R1).read_bytes()
    (out / R1).write_bytes(data[: len(data) // 3])
    (out / R0).unlink()
    assert main(["results", "test_job", "--state", str(state), "-o", "csv"]) == 1
    captured = capsys.readouterr()
    assert 1 < len(captured.out.splitlines()) < ROWS
    err = captured.err
    assert f"damaged: {out / R0}: missing ({ROWS} record(s) lost)" in err
    assert f"damaged: {out / R1}: " in err and "record(s) missing (truncated:" in err
    assert "error: the outputs of 'test_job' are damaged: 2 damaged output file(s)" in err
    assert "Traceback" not in err


def test_damage_on_cloud_storage(written: dict[str, Path], gcs, bucket) -> None:  # type: ignore[no-untyped-def]
    """The same checks through gs:// (fake-gcs-server)."""
    for path in written["JSONL"].iterdir():
        if path.is_file():
            gcs.pipe(f"{bucket}/out/{path.name}", path.read_bytes())
    data = (written["JSONL"] / R0).read_bytes()
    gcs.pipe(f"{bucket}/out/{R0}", data[: len(data) // 2])
    gcs.rm(f"{bucket}/out/{R1}")
    check = OutputCheck()
    records = list(read_results(f"gs://{bucket}/out", check=check))
    assert 0 < len(records) < ROWS
    assert [(Path(d.file).name, d.problem.split(" (")[0]) for d in check.damage] == [
        (R0, "1 line(s) are not JSON"),  # the line the cut went through
        (R0, f"{ROWS - len(records) - 1} of {ROWS} record(s) missing"),
        (R1, "missing"),
    ]
    assert check.lines_affected == 2 * ROWS - len(records)
    assert check.damage[0].file == f"gs://{bucket}/out/{R0}"


def test_files_named_one_by_one_as_a_backend_lists_them(out: Path) -> None:
    """The local backend names only the files that are there; the manifest
    still says what is missing, and naming one file reads just that one."""
    records, check = read_results_of([str(out / R0)])
    assert len(records) == ROWS and check.ok
    (out / R1).unlink()
    records, check = read_results_of([str(out / R0)])
    assert len(records) == ROWS
    assert damage_lines(check) == [(R1, f"missing ({ROWS} record(s) lost)", ROWS)]


def read_results_of(urls: list[str]) -> tuple[list[object], OutputCheck]:
    check = OutputCheck()
    return list(read_results(urls, check=check)), check
