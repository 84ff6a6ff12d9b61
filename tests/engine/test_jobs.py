"""Whole jobs through the engine (supervisor in-process, workers as processes):
formats, runners, the error budget, and every way a job fails."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from batchspec.engine.example import encode_example
from batchspec.engine.tfrecord import encode_record
from batchspec.model.enums import JobState
from tests.engine.conftest import Workspace, python_model, spec_doc

ECHO = python_model("tests.engine.helpers.models:echo")
LENGTH = python_model("tests.engine.helpers.models:length")
FAIL_ON_BAD = python_model("tests.engine.helpers.models:fail_on_bad")


def reviews(ws: Workspace, n: int = 20, bad: tuple[int, ...] = (), files: int = 2) -> None:
    for f in range(files):
        rows = []
        for i in range(f * n, (f + 1) * n):
            rows.append({"id": f"r{i}", "text": "bad" if i in bad else f"text {i}"})
        ws.jsonl(f"in/part-{f}.jsonl", rows)


def jsonl_input(**kw: object) -> dict[str, object]:
    return {"format": "JSONL", "paths": ["in/part-*"], "keyField": "id", **kw}


def test_keyed_job_succeeds_with_manifest_checksums(ws: Workspace) -> None:
    reviews(ws)
    job = ws.run(spec_doc(model=LENGTH, input=jsonl_input()))
    assert job.state is JobState.SUCCEEDED, job.error
    assert (job.completed_count, job.failed_count, job.total_count) == (40, 0, 40)
    results = ws.lines("results")
    assert {r["key"]: r["prediction"] for r in results} == {
        f"r{i}": len(f"text {i}") for i in range(40)
    }
    manifest = json.loads((ws.out() / "batchspec-manifest.json").read_text())
    assert manifest["state"] == "SUCCEEDED" and manifest["completedCount"] == 40
    names = sorted(f["name"] for f in manifest["files"])
    assert names == sorted(p.name for p in ws.out().glob("prediction.*"))
    for f in manifest["files"]:
        data = (ws.out() / f["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
    assert not (ws.out() / ".batchspec-staging").exists()
    assert ws.backend.outputs(job.remote_name) == [
        str(ws.out() / n) for n in names if n.startswith("prediction.")
    ]


def test_failures_within_budget_end_partially_succeeded(ws: Workspace) -> None:
    reviews(ws, bad=(3, 25))
    ws.write("in/part-9.jsonl", '{"id": "x", "text": "ok"}\n{not json\n')
    job = ws.run(spec_doc(model=FAIL_ON_BAD, input=jsonl_input()))
    assert job.state is JobState.PARTIALLY_SUCCEEDED
    assert (job.completed_count, job.failed_count) == (39, 3)
    errors = ws.lines("errors_stats")
    assert {e.get("key") for e in errors} == {"r3", "r25", None}
    malformed = next(e for e in errors if "instance" in e)
    assert malformed["instance"] == "{not json"
    assert "part-9.jsonl:2: malformed JSON" in malformed["error"]["message"]


def test_budget_exceeded_fails_the_job_and_says_where_to_look(ws: Workspace) -> None:
    reviews(ws, bad=(1, 2, 3))
    job = ws.run(spec_doc(model=FAIL_ON_BAD, input=jsonl_input(), policy={"maxFailedInstances": 2}))
    assert job.state is JobState.FAILED
    assert "error budget exceeded: 3 instances failed, more than maxFailedInstances 2" in (
        job.error or ""
    )
    assert "prediction.errors_stats" in ws.details(job)["error"]["hint"]


def test_zero_error_fraction_means_any_failure_fails(ws: Workspace) -> None:
    reviews(ws, bad=(7,))
    job = ws.run(spec_doc(model=FAIL_ON_BAD, input=jsonl_input(), policy={"maxErrorFraction": 0.0}))
    assert job.state is JobState.FAILED
    assert "maxErrorFraction 0 of 40 instances (0)" in (job.error or "")


def test_budget_stops_early_when_certainly_exceeded(ws: Workspace) -> None:
    for f in range(6):
        ws.jsonl(f"in/part-{f}.jsonl", [{"id": f"{f}-{i}", "text": "bad"} for i in range(1500)])
    job = ws.run(
        spec_doc(
            model=FAIL_ON_BAD,
            input=jsonl_input(),
            policy={"maxErrorFraction": 0.01},
            resources={"maxWorkerCount": 1, "batchSize": 500},
        )
    )
    assert job.state is JobState.FAILED and "stopped early" in (job.error or "")
    assert job.failed_count < 9000


def test_missing_inputs_fail_with_what_to_fix(ws: Workspace) -> None:
    job = ws.run(spec_doc(model=ECHO, input={"format": "JSONL", "paths": ["nothere/*"]}))
    assert job.state is JobState.FAILED
    assert "input folder" in (job.error or "") and "does not exist" in (job.error or "")
    assert "input.paths" in ws.details(job)["error"]["hint"]


def test_output_holding_results_is_refused_unless_overwrite(ws: Workspace) -> None:
    reviews(ws)
    ws.write("out/prediction.results-00000-of-00009", "old\n")
    ws.write("out/notes.txt", "mine\n")
    refused = ws.run(spec_doc(model=LENGTH, input=jsonl_input()))
    assert refused.state is JobState.FAILED
    assert "already holds results (prediction.results-00000-of-00009)" in (refused.error or "")
    assert "overwrite: true" in ws.details(refused)["error"]["hint"]
    assert (ws.out() / "prediction.results-00000-of-00009").read_text() == "old\n"
    assert sorted(p.name for p in ws.out().iterdir()) == [
        "notes.txt",
        "prediction.results-00000-of-00009",
    ], "a refused job writes nothing there, not even a manifest"
    doc = spec_doc(model=LENGTH, input=jsonl_input(), output={"path": "out", "overwrite": True})
    job = ws.run(doc, name="spec2.yaml")
    assert job.state is JobState.SUCCEEDED
    assert not (ws.out() / "prediction.results-00000-of-00009").exists()
    assert (ws.out() / "notes.txt").read_text() == "mine\n", "only result files are replaced"


def test_unwritable_output_fails_with_what_to_fix(ws: Workspace) -> None:
    reviews(ws)
    ws.write("blocker", "a file, not a folder")
    job = ws.run(spec_doc(model=LENGTH, input=jsonl_input(), output={"path": "blocker/out"}))
    assert job.state is JobState.FAILED
    assert "cannot write to the output folder" in (job.error or "")
    assert "writable" in ws.details(job)["error"]["hint"]


def test_model_that_cannot_load_fails_the_job(ws: Workspace) -> None:
    reviews(ws)
    model = python_model("tests.engine.helpers.models:BrokenInit")
    job = ws.run(spec_doc(model=model, input=jsonl_input()))
    assert job.state is JobState.FAILED
    assert "RuntimeError: weights file missing" in (job.error or "")
    assert not list(ws.out().glob("prediction.*"))


def test_model_breaking_its_contract_fails_the_job(ws: Workspace) -> None:
    reviews(ws)
    job = ws.run(
        spec_doc(model=python_model("tests.engine.helpers.models:one_short"), input=jsonl_input())
    )
    assert job.state is JobState.FAILED
    assert "returned 19 predictions for 20 instances" in (job.error or "")


def test_one_model_load_per_worker(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    loads = ws.root / "loads.txt"
    monkeypatch.setenv("LOADS_FILE", str(loads))
    for f in range(6):
        ws.jsonl(f"in/part-{f}.jsonl", [{"id": f"{f}-{i}", "x": i} for i in range(50)])
    model = python_model("tests.engine.helpers.models:CountingLoads")
    job = ws.run(spec_doc(model=model, input=jsonl_input(), resources={"maxWorkerCount": 2}))
    assert job.state is JobState.SUCCEEDED
    pids = loads.read_text().split()
    assert len(pids) == len(set(pids)) <= 2
    # Every prediction came from a worker that loaded the model once (on a busy
    # machine one worker may finish every shard before the other is ready).
    assert {str(r["prediction"]) for r in ws.lines("results")} <= set(pids)


def test_csv_job_with_key(ws: Workspace, iris_model: tuple[Path, str]) -> None:
    path, sha = iris_model
    ws.write(
        "in/flowers.csv",
        '"id","sl","sw","pl","pw"\n"a",5.1,3.5,1.4,0.2\n"b",6.7,3.0,5.2,2.3,9\n"c",5.9,3.0,4.2,1.5\n',
    )
    model = {"runner": "sklearn", "path": str(path), "sha256": sha}
    doc = spec_doc(model=model, input={"format": "CSV", "paths": ["in/*"], "keyField": "id"})
    job = ws.run(doc)
    assert job.state is JobState.PARTIALLY_SUCCEEDED
    assert sorted((r["key"], r["prediction"]) for r in ws.lines("results")) == [
        ("a", "setosa"),
        ("c", "versicolor"),
    ]
    (error,) = ws.lines("errors_stats")
    assert "flowers.csv:3: too many fields: 6, the header has 5" in error["error"]["message"]


def test_onnx_job_with_csv_output(ws: Workspace, iris_onnx: Path) -> None:
    ws.write("in/x.csv", '"id","sl","sw","pl","pw"\n"a",5.1,3.5,1.4,0.2\n')
    model = {"runner": "onnx", "path": str(iris_onnx), "outputNames": ["label"]}
    doc = spec_doc(
        model=model,
        input={"format": "CSV", "paths": ["in/x.csv"], "keyField": "id"},
        output={"path": "out", "format": "CSV"},
    )
    assert ws.run(doc).state is JobState.SUCCEEDED
    assert (ws.out() / "prediction.results-00000-of-00001").read_text() == (
        "key,prediction\na,setosa\n"
    )


def test_tfrecord_gzip_examples_with_key_and_a_crc_error(ws: Workspace) -> None:
    records = [encode_example({"id": f"e{i}", "text": "t" * i}) for i in range(5)]
    blob = bytearray(b"".join(encode_record(r) for r in records))
    blob[-1] ^= 0xFF  # spoil the last record's data checksum
    ws.write("in/data.tfrecord.gz", gzip.compress(bytes(blob)))
    doc = spec_doc(
        model=LENGTH,
        input={
            "format": "TF_RECORD_GZIP",
            "paths": ["in/*"],
            "tfRecordDecode": "example",
            "keyField": "id",
        },
    )
    job = ws.run(doc)
    assert job.state is JobState.PARTIALLY_SUCCEEDED
    assert sorted((r["key"], r["prediction"]) for r in ws.lines("results")) == [
        (f"e{i}", i) for i in range(4)
    ]
    (error,) = ws.lines("errors_stats")
    assert error["error"]["status"] == "DATA_LOSS"
    assert "data.tfrecord.gz record 5: data checksum mismatch" in error["error"]["message"]


def test_tfrecord_b64_like_the_services(ws: Workspace) -> None:
    ws.write("in/r.tfrecord", encode_record(b"\x01\x02"))
    job = ws.run(spec_doc(model=ECHO, input={"format": "TF_RECORD", "paths": ["in/*"]}))
    assert job.state is JobState.SUCCEEDED
    assert ws.lines("results") == [
        {"instance": {"b64": "AQI="}, "prediction": {"echo": {"b64": "AQI="}}}
    ]


def test_text_and_file_list_jobs(ws: Workspace) -> None:
    ws.write("in/lines.txt", "first line\nsecond\n")
    job = ws.run(spec_doc(model=LENGTH, input={"format": "TEXT", "paths": ["in/lines.txt"]}))
    assert job.state is JobState.SUCCEEDED
    assert [r["prediction"] for r in ws.lines("results")] == [10, 6]
    ws.write("blobs/a.bin", b"AB")
    ws.write("list.txt", "blobs/a.bin\nblobs/gone.bin\n")
    doc = spec_doc(
        model=ECHO, input={"format": "FILE_LIST", "paths": ["list.txt"]}, output={"path": "o2"}
    )
    job = ws.run(doc, name="s2.yaml")
    assert job.state is JobState.PARTIALLY_SUCCEEDED
    assert ws.lines("results", "o2")[0]["instance"] == {"b64": "QUI="}
    assert ws.lines("errors_stats", "o2")[0]["error"]["status"] == "NOT_FOUND"


def test_included_and_excluded_fields(ws: Workspace) -> None:
    ws.jsonl("in/a.jsonl", [{"id": 1, "text": "abc", "secret": "s", "extra": 2}])
    doc = spec_doc(model=ECHO, input=jsonl_input(paths=["in/a.jsonl"], excludedFields=["secret"]))
    assert ws.run(doc).state is JobState.SUCCEEDED
    assert ws.lines("results") == [{"key": 1, "prediction": {"echo": {"text": "abc", "extra": 2}}}]


def test_http_runner_job_isolates_failing_instances(ws: Workspace, server_cmd: list[str]) -> None:
    reviews(ws, bad=(4,))
    model = {"runner": "http", "command": server_cmd, "env": {"MODE": "ok"}}
    job = ws.run(spec_doc(model=model, input=jsonl_input(), resources={"batchSize": 8}))
    assert job.state is JobState.PARTIALLY_SUCCEEDED
    (error,) = ws.lines("errors_stats")
    assert error["key"] == "r4"
    assert error["error"]["status"] == "INTERNAL"
    assert "HTTP 500" in error["error"]["message"]
    assert len(ws.lines("results")) == 39


def test_http_runner_with_a_fixed_port_uses_one_worker(
    ws: Workspace, server_cmd: list[str]
) -> None:
    from batchspec.engine.runners.http import free_port

    for f in range(4):
        ws.jsonl(f"in/part-{f}.jsonl", [{"id": f"{f}-{i}", "text": "t"} for i in range(30)])
    model = {"runner": "http", "command": server_cmd, "port": free_port()}
    job = ws.run(spec_doc(model=model, input=jsonl_input(), resources={"maxWorkerCount": 4}))
    assert job.state is JobState.SUCCEEDED, job.error
    events = (ws.backend.job_dir(job.remote_name) / "logs" / "events.log").read_text()
    assert "starting 1 worker(s)" in events and "fixed port" in events


def test_http_runner_wrong_count_spends_the_error_budget(
    ws: Workspace, server_cmd: list[str]
) -> None:
    """Every answer one prediction short: each instance fails (BS510), and a
    budget of none fails the job."""
    reviews(ws)
    model = {"runner": "http", "command": server_cmd, "env": {"MODE": "wrong_count"}}
    policy = {"maxFailedInstances": 0}
    job = ws.run(spec_doc(model=model, input=jsonl_input(), policy=policy))
    assert job.state is JobState.FAILED
    assert "error budget exceeded" in (job.error or "")
    assert "prediction.errors_stats" in ws.details(job)["error"]["hint"]


def test_command_runner_job(ws: Workspace, batch_cmd: list[str]) -> None:
    ws.jsonl("in/n.jsonl", [{"id": i, "n": i} for i in range(300)])
    model = {"runner": "command", "command": batch_cmd, "env": {"MODE": "ok"}}
    doc = spec_doc(model=model, input=jsonl_input(paths=["in/n.jsonl"]), resources={"batchSize": 2})
    job = ws.run(doc)
    assert job.state is JobState.SUCCEEDED
    assert sorted((r["key"], r["prediction"]["double"]) for r in ws.lines("results")) == [
        (i, 2 * i) for i in range(300)
    ]


def test_a_worker_killed_mid_shard_is_replaced_and_the_shard_redone(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIE_MARKER", str(ws.root / "died"))
    reviews(ws)
    job = ws.run(
        spec_doc(model=python_model("tests.engine.helpers.models:die_once"), input=jsonl_input())
    )
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.completed_count == 40
    events = (ws.backend.job_dir(job.remote_name) / "logs" / "events.log").read_text()
    assert "was killed by SIGKILL on shard" in events


def test_a_shard_that_keeps_killing_workers_fails_the_job(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIE_MARKER", str(ws.root / "died"))
    monkeypatch.setenv("DIE_ALWAYS", "1")
    reviews(ws, files=1)
    job = ws.run(
        spec_doc(model=python_model("tests.engine.helpers.models:die_once"), input=jsonl_input())
    )
    assert job.state is JobState.FAILED
    assert "was killed by SIGKILL on shard 0" in (job.error or "") and "3 times" in (
        job.error or ""
    )
    assert "memory" in ws.details(job)["error"]["hint"]
