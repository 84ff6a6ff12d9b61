"""The worker-pool seam: any `WorkerPool` runs a job under the supervisor, and
the supervisor's rules (resume, budget, cancel, manifest) hold whatever the pool."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from batchspec.engine.jobdir import JobDir
from batchspec.engine.jobhome import job_record
from batchspec.engine.messages import Fatal
from batchspec.engine.pool import MAX_SHARD_ATTEMPTS, PoolHost, PoolWork, ShardQueue, Stop
from batchspec.engine.runners.loader import load_runner
from batchspec.engine.shard import process_shard
from batchspec.engine.supervisor import supervise
from batchspec.model.enums import JobState
from tests.engine.conftest import Workspace, python_model, spec_doc


class InlinePool:
    """A third pool: every shard in this process, one runner. What it may
    know of the supervisor is only `PoolWork` and `PoolHost`."""

    def __init__(self, *, cancel_after: int | None = None, fatal: bool = False) -> None:
        self.cancel_after = cancel_after
        self.fatal = fatal
        self.ran: list[int] = []

    def run(self, work: PoolWork, host: PoolHost) -> None:
        if self.fatal:
            raise Stop(JobState.FAILED, Fatal("the model is broken").message)
        runner = load_runner(work.job.model, dataclasses.replace(work.runner, worker=7))
        queue = ShardQueue(work.todo)
        while (index := queue.take()) is not None:
            host.shard_started(index)
            shard = work.shards[index]
            result = process_shard(
                work.shard_job, shard, runner, lambda d, f: host.shard_progress(index, d, f)
            )
            work.job_dir.write_shard(result.to_json())
            host.shard_published(result, "the test")
            self.ran.append(index)
            if self.cancel_after is not None and len(self.ran) == self.cancel_after:
                work.job_dir.request_cancel()
            host.tick()


def _job_dir(ws: Workspace, doc: dict[str, Any]) -> Path:
    job = ws.compile(doc)
    jd, _ = ws.backend.folders.ensure(job_record(job))
    return jd.path


def _doc(ws: Workspace, files: int = 4, **spec: Any) -> dict[str, Any]:
    for f in range(files):
        ws.jsonl(f"in/part-{f}.jsonl", [{"id": f"{f}-{i}", "n": i} for i in range(50)])
    return spec_doc(
        model=python_model("tests.engine.helpers.models:slow"),
        input={"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
        **spec,
    )


def test_any_pool_runs_a_job_to_the_same_files_as_the_process_pool(ws: Workspace) -> None:
    doc = _doc(ws)
    path = _job_dir(ws, doc)
    pool = InlinePool()
    assert supervise(path, pool=pool) is JobState.SUCCEEDED
    assert sorted(pool.ran) == list(range(4))
    inline = {p.name: p.read_bytes() for p in ws.out().glob("prediction.*")}
    manifest = (ws.out() / "batchspec-manifest.json").read_bytes()
    doc["spec"]["output"] = {"path": "out2"}
    assert ws.run(doc).state is JobState.SUCCEEDED
    assert {p.name: p.read_bytes() for p in ws.out("out2").glob("prediction.*")} == inline
    assert len(inline) == 8 and b'"completedCount":200' in manifest.replace(b" ", b"")


def test_the_host_cancels_between_shards_keeping_what_was_published(
    ws: Workspace,
) -> None:
    path = _job_dir(ws, _doc(ws, resources={"maxWorkerCount": 1}))
    assert supervise(path, pool=InlinePool(cancel_after=1)) is JobState.CANCELLED
    status = JobDir(path).read_status()
    assert (status["shardsDone"], status["completedCount"]) == (1, 50)


def test_a_stop_from_the_pool_fails_the_job_with_its_message(ws: Workspace) -> None:
    path = _job_dir(ws, _doc(ws))
    assert supervise(path, pool=InlinePool(fatal=True)) is JobState.FAILED
    assert JobDir(path).read_status()["error"]["message"] == "the model is broken"


def test_a_lost_shard_goes_first_in_line_until_it_failed_too_often() -> None:
    queue = ShardQueue([0, 1, 2])
    assert queue.take() == 0
    assert queue.give_back(0) == 1
    assert [queue.take(), queue.take()] == [0, 1]
    for tries in range(2, MAX_SHARD_ATTEMPTS):
        assert queue.give_back(0) == tries
        assert queue.take() == 0
    assert queue.give_back(0) == MAX_SHARD_ATTEMPTS  # not put back: the caller stops the job
    assert [queue.take(), queue.take()] == [2, None]
    assert not queue


@pytest.mark.parametrize("signal_cancels", [False, True])
def test_a_signal_pauses_a_local_job_and_cancels_a_ray_one(
    ws: Workspace, signal_cancels: bool
) -> None:
    path = _job_dir(ws, _doc(ws))

    class Signalled(InlinePool):
        def run(self, work: PoolWork, host: PoolHost) -> None:
            host.signalled()
            host.tick()

    state = supervise(path, pool=Signalled(), signal_cancels=signal_cancels)
    assert state is (JobState.CANCELLED if signal_cancels else None)
    assert JobDir(path).cancel_requested() is signal_cancels
