"""The Ray backend's logic without a cluster: state mapping, the driver's
status protocol, pool sizing, addresses, idempotent submit against a stand-in
for Ray's Jobs API client, the `ray` spec block, and the message a user gets
without Ray installed."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from batchspec.backends import ray as ray_backend
from batchspec.backends.base import wait_for
from batchspec.backends.ray import (
    RayBackend,
    map_state,
    remote_name,
    split_remote_name,
    submission_id,
)
from batchspec.cli.main import main
from batchspec.compile import compile_spec
from batchspec.errors import (
    JobNotFoundError,
    PermanentBackendError,
    TemporaryBackendError,
)
from batchspec.model.enums import JobState, Target
from batchspec.model.jobs import CompiledJob
from batchspec.raycluster import driver
from batchspec.raycluster.protocol import (
    JOB_ENV,
    STATUS_PREFIX,
    last_status,
    status_line,
    without_status,
)
from batchspec.raycluster.sizing import ClusterCapacityError, size_pool
from batchspec.validate import validate_paths

ADDRESS = "http://127.0.0.1:8265"


def write_spec(folder: Path, ray: dict[str, Any] | None = None, name: str = "scores") -> Path:
    spec: dict[str, Any] = {
        "target": "ray",
        "model": {"local": {"runner": "python", "callable": "m:predict"}},
        "input": {"format": "JSONL", "paths": ["in/*"], "keyField": "id"},
        "output": {"path": "out"},
    }
    if ray is not None:
        spec["ray"] = ray
    doc = {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": {"name": name},
        "spec": spec,
    }
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(doc))
    return path


def compiled(path: Path, target: Target = Target.RAY) -> CompiledJob:
    result = validate_paths([str(path)])
    assert result.ok, [d.message for d in result.diagnostics]
    loaded = result.specs[0]
    return compile_spec(loaded.spec, target=target, source=loaded.file)


# --- states -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ray_status", "exit_code", "status", "expected"),
    [
        ("PENDING", None, None, JobState.PENDING),
        ("RUNNING", None, {"state": "RUNNING"}, JobState.RUNNING),
        ("STOPPED", None, {"state": "RUNNING"}, JobState.CANCELLED),
        ("SUCCEEDED", 0, {"state": "SUCCEEDED"}, JobState.SUCCEEDED),
        ("SUCCEEDED", 0, None, JobState.SUCCEEDED),
        # Ray says FAILED for exit code 10; the engine says how it really ended
        ("FAILED", 10, {"state": "PARTIALLY_SUCCEEDED"}, JobState.PARTIALLY_SUCCEEDED),
        ("FAILED", 10, None, JobState.PARTIALLY_SUCCEEDED),  # list(): no log read
        ("FAILED", 1, {"state": "FAILED"}, JobState.FAILED),
        # the driver was lost mid-run: resumable, like a local job whose supervisor died
        ("FAILED", -9, {"state": "RUNNING"}, JobState.PAUSED),
        ("FAILED", -9, {"state": "QUEUED"}, JobState.PAUSED),
        ("FAILED", None, None, JobState.FAILED),
        ("SOMETHING_NEW", None, None, JobState.UNSPECIFIED),
    ],
)
def test_states(
    ray_status: str, exit_code: int | None, status: dict[str, Any] | None, expected: JobState
) -> None:
    assert map_state(ray_status, exit_code, status) is expected


# --- the driver's status lines --------------------------------------------------------


def test_the_last_status_line_wins_and_actors_cannot_forge_one() -> None:
    logs = "\n".join(
        [
            "Running entrypoint",
            status_line({"state": "RUNNING", "completedCount": 5}),
            "(ShardActor pid=7) " + STATUS_PREFIX + json.dumps({"state": "SUCCEEDED"}),
            status_line({"state": "PARTIALLY_SUCCEEDED", "completedCount": 9}),
            "2026-01-01T00:00:00Z finished",
            STATUS_PREFIX + '{"state": "SUCC',  # cut short while being written
        ]
    )
    assert last_status(logs) == {"state": "PARTIALLY_SUCCEEDED", "completedCount": 9}
    assert last_status("no status here\n") is None
    assert STATUS_PREFIX not in without_status(logs).replace(
        "(ShardActor pid=7) " + STATUS_PREFIX, ""
    )
    assert "finished" in without_status(logs)


def test_the_driver_echoes_status_records(tmp_path: Path) -> None:
    out = io.StringIO()
    jd = driver.EchoJobDir(tmp_path, out=out)
    jd.update_status(state="RUNNING", completedCount=1)
    jd.update_status(durable=False, completedCount=2)  # progress: throttled
    jd.update_status(state="SUCCEEDED", completedCount=3)
    states = [json.loads(x[len(STATUS_PREFIX) :]) for x in out.getvalue().splitlines()]
    assert [(s["state"], s["completedCount"]) for s in states] == [
        ("RUNNING", 1),
        ("SUCCEEDED", 3),
    ]


def test_the_driver_needs_its_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(JOB_ENV, raising=False)
    assert driver.main([]) == 2
    monkeypatch.setenv(JOB_ENV, json.dumps({"id": "x"}))  # not a job record
    assert driver.main(["--home", str(tmp_path)]) == 1
    status = last_status(capsys.readouterr().out)
    assert status is not None and status["state"] == "FAILED"
    assert "cannot open the job" in status["error"]["message"]


# --- sizing ---------------------------------------------------------------------------


def size(**kw: Any) -> Any:
    args = {
        "cluster_cpus": 8.0,
        "cluster_gpus": 0.0,
        "cpus_per_actor": 1.0,
        "gpus_per_actor": 0.0,
        "max_workers": 10,
        "shards": 40,
    }
    args.update(kw)
    return size_pool(**args)


def test_a_pool_that_would_take_every_cpu_is_refused() -> None:
    with pytest.raises(ClusterCapacityError) as err:
        size(cluster_cpus=2.0, cpus_per_actor=2.0)
    assert "every CPU" in err.value.message and "ray-project/ray#44687" in err.value.message
    assert err.value.hint is not None and "cpusPerActor" in err.value.hint
    with pytest.raises(ClusterCapacityError):
        size(cluster_cpus=1.0)  # one CPU: nothing left for reading


def test_a_pool_too_big_for_the_cluster_is_shrunk_leaving_a_cpu() -> None:
    pool = size(cluster_cpus=8.0)
    assert pool.actors == 7 and pool.note is not None and "stays free" in pool.note
    assert size(cluster_cpus=2.0, cpus_per_actor=0.5, max_workers=2).actors == 2
    assert size(cluster_cpus=2.0, cpus_per_actor=0.5, max_workers=4).actors == 2
    assert size(cluster_cpus=64.0, max_workers=10, shards=3).actors == 3  # no idle actors
    assert size(cluster_cpus=64.0).note is None


def test_gpus_and_fixed_ports() -> None:
    with pytest.raises(ClusterCapacityError, match="GPU"):
        size(gpus_per_actor=1.0, cluster_gpus=0.0)
    assert size(gpus_per_actor=1.0, cluster_gpus=2.0).actors == 2
    one = size(one_actor_reason="the http runner has a fixed port (8080)")
    assert one.actors == 1 and one.note is not None and "fixed port" in one.note


# --- the spec's ray block ----------------------------------------------------------------


def test_the_ray_block_belongs_to_the_ray_body_only(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    bare = write_spec(tmp_path / "a")
    empty = write_spec(tmp_path / "b", ray={})
    tuned = write_spec(tmp_path / "c", ray={"cpusPerActor": 0.5})
    assert compiled(bare).fingerprint == compiled(empty).fingerprint  # defaults are filled in
    assert compiled(bare).fingerprint != compiled(tuned).fingerprint
    assert compiled(tuned).body["spec"]["ray"]["cpusPerActor"] == 0.5
    local = compiled(tuned, Target.LOCAL)
    assert "ray" not in local.body["spec"]
    assert local.fingerprint == compiled(bare, Target.LOCAL).fingerprint


def test_other_targets_say_they_ignore_the_ray_block(tmp_path: Path) -> None:
    from batchspec.compile import compile_with_diagnostics

    loaded = validate_paths([str(write_spec(tmp_path, ray={"cpusPerActor": 0.5}))]).specs[0]
    _, warnings = compile_with_diagnostics(loaded.spec, target=Target.LOCAL)
    assert [(d.code, d.message) for d in warnings] == [
        ("BS301", "local ignores `ray`: the `ray` block configures target ray only")
    ]
    _, warnings = compile_with_diagnostics(loaded.spec, target=Target.RAY)
    assert warnings == []


@pytest.mark.parametrize("bad", [{"cpusPerActor": 0}, {"cpusPerActor": "1"}, {"actors": 2}])
def test_bad_ray_settings_are_refused(tmp_path: Path, bad: dict[str, Any]) -> None:
    result = validate_paths([str(write_spec(tmp_path, ray=bad))])
    assert not result.ok


# --- addresses and names -------------------------------------------------------------------


def test_addresses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATCHSPEC_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    (tmp_path / "a").mkdir()
    plain = compiled(write_spec(tmp_path))
    pinned = compiled(write_spec(tmp_path / "a", ray={"address": "http://spec:8265"}))
    with pytest.raises(PermanentBackendError) as err:
        RayBackend().address_for(plain)
    assert err.value.hint is not None and "ray.address" in err.value.hint
    monkeypatch.setenv("RAY_ADDRESS", "http://ray-env:8265")
    assert RayBackend().address_for(plain) == "http://ray-env:8265"
    monkeypatch.setenv("BATCHSPEC_RAY_ADDRESS", "http://bs-env:8265")
    assert RayBackend().address_for(plain) == "http://bs-env:8265"
    assert RayBackend().address_for(pinned) == "http://spec:8265"
    assert RayBackend("http://flag:8265").address_for(pinned) == "http://flag:8265"


def test_names() -> None:
    job = SimpleNamespace(name="scores", fingerprint="0123456789abcdef" * 4)
    assert submission_id(job, 1) == "batchspec-scores-0123456789ab"  # type: ignore[arg-type]
    assert submission_id(job, 3) == "batchspec-scores-0123456789ab-3"  # type: ignore[arg-type]
    name = remote_name(ADDRESS + "/", "batchspec-scores-0123456789ab")
    assert name == f"{ADDRESS}/api/jobs/batchspec-scores-0123456789ab"
    assert split_remote_name(name) == (ADDRESS, "batchspec-scores-0123456789ab")
    assert split_remote_name("batchspec-x-1") == (None, "batchspec-x-1")


# --- without Ray --------------------------------------------------------------------------------


def test_without_ray_the_target_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.job_submission", None)
    spec = write_spec(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(PermanentBackendError) as err:
        RayBackend(ADDRESS).submit(compiled(spec))
    assert err.value.hint == "pip install 'batchspec[ray]'"
    assert main(["run", str(spec), "--address", ADDRESS]) == 1
    shown = capsys.readouterr().err
    assert "needs ray, which is not installed" in shown
    assert "pip install 'batchspec[ray]'" in shown
    assert "Traceback" not in shown


# --- submit against a stand-in for Ray's Jobs API ----------------------------------------------


class FakeJobs:
    """What `JobSubmissionClient` does with jobs, in memory."""

    jobs: dict[str, SimpleNamespace]
    logs: dict[str, str]
    fail_next_submit: Exception | None = None
    create_anyway: bool = False

    def __init__(self, address: str) -> None:
        self._address = address.rstrip("/")

    def get_job_info(self, sid: str) -> SimpleNamespace:
        if sid not in self.jobs:
            raise RuntimeError(f"Request failed with status code 404: Job {sid} does not exist.")
        return self.jobs[sid]

    def submit_job(self, **kw: Any) -> str:
        sid = kw["submission_id"]
        if FakeJobs.fail_next_submit is not None:
            exc, FakeJobs.fail_next_submit = FakeJobs.fail_next_submit, None
            if FakeJobs.create_anyway:
                self._create(sid, kw)
            raise exc
        if sid in self.jobs:
            raise RuntimeError(
                f"Request failed with status code 500: Job with submission_id {sid} already exists."
            )
        self._create(sid, kw)
        return str(sid)

    def _create(self, sid: str, kw: dict[str, Any]) -> None:
        self.jobs[sid] = SimpleNamespace(
            submission_id=sid,
            status="PENDING",
            metadata=kw["metadata"],
            runtime_env=kw["runtime_env"],
            entrypoint=kw["entrypoint"],
            start_time=1_700_000_000_000 + len(self.jobs),
            end_time=None,
            message="Job has not started yet.",
            driver_exit_code=None,
        )

    def list_jobs(self) -> list[SimpleNamespace]:
        return list(self.jobs.values())

    def stop_job(self, sid: str) -> bool:
        self.jobs[sid].status = "STOPPED"
        return True

    def get_job_logs(self, sid: str) -> str:
        self.get_job_info(sid)
        return FakeJobs.logs.get(sid, "")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeJobs]:
    FakeJobs.jobs = {}
    FakeJobs.logs = {}
    FakeJobs.fail_next_submit = None
    FakeJobs.create_anyway = False
    monkeypatch.setattr(ray_backend, "_import_client", lambda: FakeJobs)
    return FakeJobs


@pytest.fixture
def job(tmp_path: Path) -> CompiledJob:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text('{"id": 1}\n')
    return compiled(
        write_spec(
            tmp_path,
            ray={"runtimeEnv": {"env_vars": {"MODEL_MODE": "fast"}, "working_dir": "code"}},
        )
    )


def test_submit_is_idempotent_and_rerun_is_a_new_attempt(
    fake: type[FakeJobs], job: CompiledJob, tmp_path: Path
) -> None:
    backend = RayBackend(ADDRESS, cluster_home="/srv/jobs", python="/opt/py/bin/python")
    first = backend.submit(job)
    sid = submission_id(job)
    assert first.remote_name == f"{ADDRESS}/api/jobs/{sid}" and first.state is JobState.PENDING
    assert first.fingerprint == job.fingerprint and first.job_name == "scores"
    assert backend.submit(job).remote_name == first.remote_name
    assert list(fake.jobs) == [sid]
    sent = fake.jobs[sid]
    assert sent.entrypoint == "/opt/py/bin/python -m batchspec.raycluster --home /srv/jobs"
    env = sent.runtime_env
    assert env["env_vars"]["MODEL_MODE"] == "fast"
    assert json.loads(env["env_vars"][JOB_ENV])["fingerprint"] == job.fingerprint
    assert env["working_dir"] == str(tmp_path / "code")  # relative to the spec's folder
    assert env["py_modules"][-1].endswith("batchspec")
    assert sent.metadata["batchspec-fp"] == job.fingerprint[: len(sent.metadata["batchspec-fp"])]

    # a rerun of an unfinished job adopts it; of a finished one, it is a new attempt
    assert backend.rerun(job).remote_name == first.remote_name
    fake.jobs[sid].status, fake.jobs[sid].driver_exit_code = "FAILED", 1
    again = backend.rerun(job)
    assert again.remote_name.endswith(f"{sid}-2")
    assert fake.jobs[f"{sid}-2"].entrypoint.endswith("--rerun")
    assert backend.submit(job).remote_name == again.remote_name  # the latest attempt
    found = backend.find(job)
    assert found is not None and found.remote_name == again.remote_name
    assert [j.remote_name.rsplit("/", 1)[1] for j in backend.list({"managed-by": "batchspec"})] == [
        sid,
        f"{sid}-2",
    ]
    assert list(backend.list({"team": "nobody"})) == []


def test_a_job_whose_driver_was_lost_is_paused_and_resumed(
    fake: type[FakeJobs], job: CompiledJob
) -> None:
    backend = RayBackend(ADDRESS)
    name = backend.submit(job).remote_name
    sid = submission_id(job)
    lost = fake.jobs[sid]
    lost.status, lost.driver_exit_code = "FAILED", -9
    lost.message = "Job entrypoint command failed with exit code -9"
    fake.logs[sid] = status_line({"state": "RUNNING", "shardsDone": 3}) + "\n"
    paused = backend.get(name)
    assert paused.state is JobState.PAUSED and not paused.terminal
    assert paused.error is not None and "resume from its 3 published shard(s)" in paused.error
    assert wait_for(backend, name, timeout=5).state is JobState.PAUSED  # does not wait forever
    resumed = backend.submit(job)  # no --rerun: the job folder on the cluster is reused
    assert resumed.remote_name.endswith(f"{sid}-2")
    assert not fake.jobs[f"{sid}-2"].entrypoint.endswith("--rerun")


def test_an_ambiguous_submit_looks_before_it_fails(fake: type[FakeJobs], job: CompiledJob) -> None:
    backend = RayBackend(ADDRESS)
    fake.fail_next_submit, fake.create_anyway = ConnectionError("reset by peer"), True
    assert backend.submit(job).remote_name.endswith(submission_id(job))  # it did get there
    fake.jobs.clear()
    fake.fail_next_submit, fake.create_anyway = ConnectionError("reset by peer"), False
    with pytest.raises(TemporaryBackendError):
        backend.submit(job)
    assert fake.jobs == {}


def test_get_cancel_and_unknown_jobs(fake: type[FakeJobs], job: CompiledJob) -> None:
    backend = RayBackend(ADDRESS)
    name = backend.submit(job).remote_name
    fake.jobs[submission_id(job)].status = "RUNNING"
    assert backend.cancel(name).state is JobState.CANCELLED
    assert backend.cancel(name).state is JobState.CANCELLED
    with pytest.raises(JobNotFoundError):
        backend.get(f"{ADDRESS}/api/jobs/batchspec-nothing-000000000000")


def test_only_ray_jobs(fake: type[FakeJobs], tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(PermanentBackendError, match="target ray"):
        RayBackend(ADDRESS).submit(compiled(write_spec(tmp_path), Target.LOCAL))
