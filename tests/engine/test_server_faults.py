"""Issue 17's faults, whole jobs against host-process model servers (the
contract tests' server): a malformed answer, a request that never ends, a
server that exits at start and one that never becomes healthy.

A malformed answer or a timed-out request is that request's failure: its
instances become error lines naming the cause, counted against the error
budget, and the job's other instances and shards still produce output. A
server that cannot start fails the whole job with its code."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from batchspec.compile import compile_paths
from batchspec.model.enums import JobState, Target
from batchspec.testing.specs import host_model_doc
from tests.engine.conftest import HELPERS, Workspace, spec_doc

SERVER = [sys.executable, str(HELPERS / "model_server.py")]


def shards(ws: Workspace, special: dict[str, str], files: int = 3, n: int = 6) -> int:
    """`files` input files of `n` instances; instance id `s<i>` holds the
    trigger word `special[id]` (the server answers it badly). Returns the total."""
    for f in range(files):
        rows = []
        for i in range(f * n, (f + 1) * n):
            key = f"s{i}"
            rows.append({"id": key, "text": special.get(key, f"text {i}")})
        ws.jsonl(f"in/part-{f}.jsonl", rows)
    return files * n


def http_job(mode: str = "ok", policy: dict[str, Any] | None = None, **model: Any) -> Any:
    runner = {"runner": "http", "command": SERVER, "env": {"MODE": mode}, **model}
    return spec_doc(
        model=runner,
        input={"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
        resources={"batchSize": 3},
        policy=policy or {},
    )


def by_shard(ws: Workspace, kind: str) -> dict[str, list[dict[str, Any]]]:
    """Each `prediction.<kind>-*` file's lines, by file name."""
    return {
        p.name: [json.loads(line) for line in p.read_text().splitlines()]
        for p in sorted(ws.out().glob(f"prediction.{kind}-*"))
    }


def test_malformed_answers_fail_their_instances_within_the_budget(ws: Workspace) -> None:
    total = shards(ws, {"s2": "garbled", "s3": "nopreds"})
    job = ws.run(http_job(policy={"maxFailedInstances": 2}), max_workers=2)
    assert job.state is JobState.PARTIALLY_SUCCEEDED, job.error
    assert (job.completed_count, job.failed_count, job.total_count) == (total - 2, 2, total)
    results = by_shard(ws, "results")
    assert len(results) == 3 and [len(lines) for lines in results.values()] == [4, 6, 6]
    errors = {e["key"]: e["error"] for e in ws.lines("errors_stats")}
    assert set(errors) == {"s2", "s3"}
    assert "part-0.jsonl:3: [BS510 bad-answer]" in errors["s2"]["message"]
    assert "not JSON" in errors["s2"]["message"]
    assert "[BS510 bad-answer]" in errors["s3"]["message"]
    assert "no `predictions` list" in errors["s3"]["message"]
    assert "s1" in {r["key"] for r in ws.lines("results")}, "the bad batch's good instance"


def test_malformed_answers_beyond_the_budget_fail_the_job(ws: Workspace) -> None:
    shards(ws, {"s2": "garbled", "s8": "garbled"})
    job = ws.run(http_job(policy={"maxFailedInstances": 1}), max_workers=1)
    assert job.state is JobState.FAILED
    assert "error budget exceeded: 2 instances failed, more than maxFailedInstances 1" in (
        job.error or ""
    )
    assert "prediction.errors_stats" in ws.details(job)["error"]["hint"]
    errors = [e for lines in by_shard(ws, "errors_stats").values() for e in lines]
    assert errors and all("[BS510 bad-answer]" in e["error"]["message"] for e in errors)


def test_a_models_container_answering_malformed_json_spares_the_other_shards(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through `model: {ref}` (the container runner; its host command
    here) and the default budget."""
    monkeypatch.setenv("BATCHSPEC_PROJECT", "p")  # where the Model would be uploaded
    monkeypatch.setenv("BATCHSPEC_REGION", "us-central1")
    total = shards(ws, {"s9": "garbled"})
    model = host_model_doc(SERVER)
    doc = http_job()
    doc["spec"]["model"] = {"ref": "scorer"}
    spec = ws.write("spec.yaml", json.dumps(model) + "\n---\n" + json.dumps(doc))
    compiled = compile_paths([spec], target=Target.LOCAL)
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    job = ws.backend.run_inline(compiled.jobs[0], max_workers=2)
    assert job.state is JobState.PARTIALLY_SUCCEEDED, job.error
    assert (job.completed_count, job.failed_count) == (total - 1, 1)
    assert len(by_shard(ws, "results")) == 3
    ((error,),) = [lines for lines in by_shard(ws, "errors_stats").values() if lines]
    assert error["key"] == "s9"
    assert "part-1.jsonl:4: [BS510 bad-answer]" in error["error"]["message"]


def test_a_request_that_never_ends_fails_its_batch_alone(ws: Workspace) -> None:
    total = shards(ws, {"s13": "stuck"})
    job = ws.run(http_job(requestTimeoutSeconds=1), max_workers=2)
    assert job.state is JobState.PARTIALLY_SUCCEEDED, job.error
    errors = ws.lines("errors_stats")
    assert sorted(e["key"] for e in errors) == ["s12", "s13", "s14"]  # its batch, as one
    assert {e["error"]["status"] for e in errors} == {"DEADLINE_EXCEEDED"}
    assert (job.completed_count, job.failed_count) == (total - 3, 3)
    assert len(by_shard(ws, "results")) == 3


def test_a_server_that_exits_at_start_fails_the_job(ws: Workspace) -> None:
    shards(ws, {})
    job = ws.run(http_job("exit"), max_workers=1)
    assert job.state is JobState.FAILED
    assert "[BS509 exited-at-start]" in (job.error or "")
    assert "model.pkl not found" in ws.details(job)["error"]["hint"]
    assert not list(ws.out().glob("prediction.*"))


def test_a_server_never_healthy_fails_the_job(ws: Workspace) -> None:
    shards(ws, {})
    job = ws.run(http_job("unhealthy", startupTimeoutSeconds=1), max_workers=1)
    assert job.state is JobState.FAILED
    assert "[BS508 never-healthy]" in (job.error or "") and "'HTTP 503'" in (job.error or "")
    assert not list(ws.out().glob("prediction.*"))
