"""The local backend as a service-like resource: detached jobs, idempotent
submit, get/list/cancel/outputs, PAUSED after a crash, and resume after
SIGKILL producing exactly the output of an uninterrupted run."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchspec.backends.base import Backend
from batchspec.backends.base import wait_for as wait_until_done
from batchspec.backends.local import LocalBackend
from batchspec.errors import JobNotFoundError, PermanentBackendError
from batchspec.model.enums import JobState, Target
from tests.engine.conftest import Workspace, python_model, spec_doc

SLOW = python_model("tests.engine.helpers.models:slow")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def slow_job(ws: Workspace, *, out: str = "out", files: int = 8, lines: int = 200) -> dict:  # type: ignore[type-arg]
    for f in range(files):
        ws.jsonl(f"in/part-{f:02d}.jsonl", [{"id": f"{f}-{i}", "n": i} for i in range(lines)])
    return spec_doc(
        model=SLOW,
        input={"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
        output={"path": out},
        resources={"maxWorkerCount": 2, "batchSize": 10},
        labels={"team": "search"},
    )


def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob("prediction.*"))
    }


def test_it_is_a_backend(tmp_path: Path) -> None:
    assert isinstance(LocalBackend(tmp_path), Backend)
    assert LocalBackend(tmp_path).name == "local"


def test_home_defaults_to_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHSPEC_HOME", str(tmp_path / "h"))
    assert LocalBackend().jobs == tmp_path / "h" / "jobs"


def test_job_survives_the_process_that_submitted_it(ws: Workspace) -> None:
    doc = slow_job(ws, files=2, lines=50)
    spec = ws.write("spec.yaml", json.dumps(doc))
    code = f"""
import sys
from batchspec.validate import validate_paths
from batchspec.compile import compile_spec
from batchspec.model.enums import Target
from batchspec.backends.local import LocalBackend
s = validate_paths([{str(spec)!r}]).specs[0]
job = compile_spec(s.spec, target=Target.LOCAL, source=s.file)
print(LocalBackend({str(ws.root / "home")!r}).submit(job).remote_name)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    remote_name = out.stdout.strip()
    job = wait_until_done(ws.backend, remote_name, timeout=30)
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.completed_count == 100


def test_submit_is_idempotent_by_fingerprint(ws: Workspace) -> None:
    job = ws.compile(slow_job(ws, files=2, lines=50))
    first = ws.backend.submit(job)
    launch = json.loads((ws.backend.job_dir(first.remote_name) / "launch.json").read_text())
    second = ws.backend.submit(job)
    assert second.remote_name == first.remote_name
    again = json.loads((ws.backend.job_dir(first.remote_name) / "launch.json").read_text())
    assert again == launch, "no second supervisor for a live job"
    assert len(list(ws.backend.jobs.iterdir())) == 1
    done = wait_until_done(ws.backend, first.remote_name, timeout=30)
    assert done.state is JobState.SUCCEEDED
    assert ws.backend.submit(job).state is JobState.SUCCEEDED, "a finished job is adopted"
    assert done.fingerprint == job.fingerprint
    assert done.labels["batchspec-fp"] == job.fingerprint[:63]


def test_get_list_outputs(ws: Workspace) -> None:
    job = ws.backend.run_inline(ws.compile(slow_job(ws, files=2, lines=20)))
    with pytest.raises(JobNotFoundError):
        ws.backend.get("nope")
    with pytest.raises(JobNotFoundError):
        ws.backend.get("../etc")
    assert [j.remote_name for j in ws.backend.list({"team": "search"})] == [job.remote_name]
    assert list(ws.backend.list({"team": "other"})) == []
    assert [j.remote_name for j in ws.backend.list()] == [job.remote_name]
    outputs = ws.backend.outputs(job.remote_name)
    assert [Path(p).name for p in outputs] == [
        "prediction.errors_stats-00000-of-00002",
        "prediction.errors_stats-00001-of-00002",
        "prediction.results-00000-of-00002",
        "prediction.results-00001-of-00002",
    ]
    assert job.output_location == str(ws.out())
    assert job.create_time and job.start_time and job.end_time


def test_other_targets_are_refused(ws: Workspace) -> None:
    job = ws.compile(slow_job(ws, files=1, lines=1))
    ray_job = type(job)(**{**job.__dict__, "target": Target.RAY})
    with pytest.raises(PermanentBackendError, match="target local"):
        ws.backend.submit(ray_job)


def test_cancel_a_running_job(ws: Workspace) -> None:
    job = ws.backend.submit(ws.compile(slow_job(ws)))
    wait_for(lambda: ws.backend.get(job.remote_name).completed_count > 0)
    cancelling = ws.backend.cancel(job.remote_name)
    assert cancelling.state in (JobState.CANCELLING, JobState.CANCELLED)
    final = wait_until_done(ws.backend, job.remote_name, timeout=20)
    assert final.state is JobState.CANCELLED
    assert not (ws.out() / ".batchspec-staging").exists()
    manifest = json.loads((ws.out() / "batchspec-manifest.json").read_text())
    assert manifest["state"] == "CANCELLED"
    assert ws.backend.cancel(job.remote_name).state is JobState.CANCELLED, "idempotent"


def _kill_supervisor(ws: Workspace, remote_name: str) -> None:
    pid = int(ws.backend.details(remote_name)["pid"])
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: ws.backend.get(remote_name).state is JobState.PAUSED)


def test_kill_9_then_resume_gives_identical_output(ws: Workspace) -> None:
    reference = ws.backend.run_inline(ws.compile(slow_job(ws, out="ref"), "ref.yaml"))
    assert reference.state is JobState.SUCCEEDED
    expected = digest(ws.out("ref"))
    assert len(expected) == 16

    doc = slow_job(ws)
    job = ws.backend.submit(ws.compile(doc))
    shards = ws.backend.job_dir(job.remote_name) / "shards"
    wait_for(lambda: shards.is_dir() and len(list(shards.glob("*.json"))) >= 2)
    _kill_supervisor(ws, job.remote_name)

    paused = ws.backend.get(job.remote_name)
    assert paused.state is JobState.PAUSED and not paused.terminal
    assert "submit the job again to resume" in (paused.error or "")
    published = digest(ws.out())
    assert 0 < len(published) < 16
    for name, sha in published.items():
        assert expected[name] == sha, f"{name} was visible before it was complete"

    resumed = ws.backend.submit(ws.compile(doc))
    assert resumed.remote_name == job.remote_name
    final = wait_until_done(ws.backend, job.remote_name, timeout=30)
    assert final.state is JobState.SUCCEEDED, final.error
    assert digest(ws.out()) == expected
    assert final.completed_count == 1600 and final.failed_count == 0
    assert ws.backend.details(job.remote_name)["starts"] == 2
    ours = json.loads((ws.out() / "batchspec-manifest.json").read_text())
    theirs = json.loads((ws.out("ref") / "batchspec-manifest.json").read_text())
    assert ours["files"] == theirs["files"]
    events = (ws.backend.job_dir(job.remote_name) / "logs" / "events.log").read_text()
    assert "shards already published" in events


def test_sigterm_pauses_and_resume_finishes(ws: Workspace) -> None:
    job = ws.backend.submit(ws.compile(slow_job(ws, files=4)))
    wait_for(lambda: ws.backend.get(job.remote_name).completed_count > 0)
    os.kill(int(ws.backend.details(job.remote_name)["pid"]), signal.SIGTERM)
    wait_for(lambda: ws.backend.get(job.remote_name).state is JobState.PAUSED)
    assert ws.backend.resume(job.remote_name).state in (JobState.RUNNING, JobState.QUEUED)
    assert wait_until_done(ws.backend, job.remote_name, timeout=30).state is JobState.SUCCEEDED


def test_cancel_a_paused_job_needs_no_supervisor(ws: Workspace) -> None:
    doc = slow_job(ws, files=4)
    job = ws.backend.submit(ws.compile(doc))
    wait_for(lambda: ws.backend.get(job.remote_name).completed_count > 0)
    _kill_supervisor(ws, job.remote_name)
    assert ws.backend.cancel(job.remote_name).state is JobState.CANCELLED
    assert ws.backend.submit(ws.compile(doc)).state is JobState.CANCELLED


def test_rerun_sets_the_finished_job_aside(ws: Workspace) -> None:
    doc = slow_job(ws, files=1, lines=10)
    doc["spec"]["output"]["overwrite"] = True
    first = ws.backend.run_inline(ws.compile(doc))
    again = ws.backend.run_inline(ws.compile(doc), rerun=True)
    assert again.remote_name == first.remote_name
    assert again.state is JobState.SUCCEEDED
    assert len(list((ws.backend.jobs / ".history").iterdir())) == 1


def test_resume_refuses_inputs_that_changed(ws: Workspace) -> None:
    doc = slow_job(ws, files=4)
    job = ws.backend.submit(ws.compile(doc))
    wait_for(lambda: ws.backend.get(job.remote_name).completed_count > 0)
    _kill_supervisor(ws, job.remote_name)
    with open(ws.root / "in" / "part-03.jsonl", "a") as fh:
        fh.write('{"id": "late", "n": 1}\n')
    ws.backend.submit(ws.compile(doc))
    final = wait_until_done(ws.backend, job.remote_name, timeout=20)
    assert final.state is JobState.FAILED
    assert "part-03.jsonl changed since this job started" in (final.error or "")


def test_two_live_jobs_cannot_share_an_output_folder(ws: Workspace) -> None:
    doc = slow_job(ws, files=4)
    first = ws.backend.submit(ws.compile(doc))
    wait_for(lambda: any(ws.out().glob("prediction.results-*")))
    other = json.loads(json.dumps(doc))
    other["metadata"]["name"] = "other_job"
    other["spec"]["output"]["overwrite"] = True
    second = ws.backend.run_inline(ws.compile(other, "other.yaml"))
    assert second.state is JobState.FAILED
    assert f"job {first.remote_name} (RUNNING) is writing to the same output folder" in (
        second.error or ""
    )
    assert wait_until_done(ws.backend, first.remote_name, timeout=20).state is JobState.SUCCEEDED
    assert len(list(ws.out().glob("prediction.results-*"))) == 4, "nothing of it was removed"


def test_a_stuck_supervisor_is_reported(ws: Workspace) -> None:
    from batchspec.engine.jobdir import JobDir

    job = ws.compile(slow_job(ws, files=1, lines=1))
    jd, _ = ws.backend._ensure(job, rerun=False)
    with JobDir(jd.path).lock() as fd:  # plays a live but hung supervisor
        assert fd is not None
        jd.update_status(state="RUNNING")
        status = jd.read_status()
        status["updateTime"] = "2020-01-01T00:00:00.000Z"
        jd.write_status(status)
        seen = ws.backend.get(jd.id)
    assert seen.state is JobState.RUNNING
    assert "has not reported for" in (seen.error or "")
    assert ws.backend.get(jd.id).state is JobState.PAUSED, "lock released: nobody runs it"
