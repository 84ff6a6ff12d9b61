"""The Ray backend against a real local cluster: a job tracked to its end with
the same results as the local engine, idempotent submit, a lost actor's
shard retried, cancel, the refusal of an actor pool taking every CPU, and a
lost driver's job paused and resumed from its published shards.

Few and bounded: each test is one small job (a few seconds of driver and
actor start-up on a 2-core machine)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from batchspec.backends.base import Backend, wait_for
from batchspec.backends.local import LocalBackend
from batchspec.backends.ray import RayBackend
from batchspec.cli.main import main
from batchspec.compile import compile_spec
from batchspec.model.enums import JobState, Target
from batchspec.model.jobs import CompiledJob
from batchspec.validate import validate_paths

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120.0


def write_spec(folder: Path, name: str, **spec: Any) -> Path:
    doc = {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": {"name": name, "labels": {"suite": "ray"}},
        "spec": {"target": "ray", **spec},
    }
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(doc, indent=1))
    return path


def compiled(path: Path, target: Target) -> CompiledJob:
    result = validate_paths([str(path)])
    assert result.ok, [d.message for d in result.diagnostics]
    loaded = result.specs[0]
    return compile_spec(loaded.spec, target=target, source=loaded.file)


def model(callable_: str, **extra: Any) -> dict[str, Any]:
    return {
        "local": {"runner": "python", "callable": callable_, "pythonPath": [str(REPO)], **extra}
    }


def write_inputs(folder: Path, files: int, lines: int, *, bad: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        rows = [json.dumps({"id": f"{f}-{i}", "n": i}) for i in range(lines)]
        if bad:
            rows.insert(3, "{not json")
        (folder / f"part-{f}.jsonl").write_text("\n".join(rows) + "\n")


def lines(folder: Path, kind: str) -> set[str]:
    out: set[str] = set()
    for p in folder.glob(f"prediction.{kind}-*"):
        out.update(p.read_text().splitlines())
    return out


@pytest.fixture
def backend(ray_address: str, tmp_path: Path) -> RayBackend:
    return RayBackend(ray_address, cluster_home=str(tmp_path / "cluster-home"))


def test_same_results_as_the_local_engine(
    ray_address: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_inputs(tmp_path / "in", files=3, lines=300, bad=True)
    common = {
        "model": model("tests.ray.helpers.models:double"),
        "input": {"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
        "resources": {"maxWorkerCount": 2, "batchSize": 16},
        "policy": {"maxErrorFraction": 0.5},
        "ray": {"cpusPerActor": 0.5},
    }
    ray_spec = write_spec(tmp_path, "keyed", output={"path": "out-ray"}, **common)
    local_spec = write_spec(tmp_path, "keyed_local", output={"path": "out-local"}, **common)
    local = LocalBackend(tmp_path / "home").run_inline(compiled(local_spec, Target.LOCAL))
    assert local.state is JobState.PARTIALLY_SUCCEEDED

    # through the CLI, as a user would: submit, follow to the end, summary
    monkeypatch.setenv("BATCHSPEC_RAY_CLUSTER_HOME", str(tmp_path / "cluster-home"))
    code = main(["run", str(ray_spec), "--target", "ray", "--address", ray_address])
    shown = capsys.readouterr().out
    assert code == 0, shown
    assert "PARTIALLY_SUCCEEDED" in shown

    backend = RayBackend(ray_address)
    assert isinstance(backend, Backend)
    job = compiled(ray_spec, Target.RAY)
    found = backend.find(job)
    assert found is not None and found.remote_name.startswith(ray_address)
    name = found.remote_name
    done = backend.get(name)
    assert done.state is JobState.PARTIALLY_SUCCEEDED
    assert (done.completed_count, done.failed_count) == (900, 3)
    assert (done.completed_count, done.failed_count) == (local.completed_count, local.failed_count)
    assert done.fingerprint == job.fingerprint and done.labels["suite"] == "ray"

    # identical outputs, as sets of keyed lines (and the same file names)
    out_ray, out_local = tmp_path / "out-ray", tmp_path / "out-local"
    assert lines(out_ray, "results") == lines(out_local, "results")
    assert lines(out_ray, "errors_stats") == lines(out_local, "errors_stats")
    assert len(lines(out_ray, "results")) == 900
    names = sorted(p.name for p in out_ray.glob("prediction.*"))
    assert names == sorted(p.name for p in out_local.glob("prediction.*"))
    assert sorted(Path(f).name for f in backend.outputs(name)) == names
    manifest = json.loads((out_ray / "batchspec-manifest.json").read_text())
    assert manifest["state"] == "PARTIALLY_SUCCEEDED" and manifest["fingerprint"] == job.fingerprint

    # submitting again adopts the job; list agrees on the outcome without logs
    assert backend.submit(job).remote_name == name
    listed = [
        j for j in backend.list({"batchspec-job": "keyed"}) if j.fingerprint == job.fingerprint
    ]
    assert [j.remote_name for j in listed] == [name]
    assert listed[0].state is JobState.PARTIALLY_SUCCEEDED
    log = backend.logs(name)
    assert "shard 2 published by actor" in log and "BATCHSPEC_STATUS" not in log

    # `batchspec logs` shows the same log, and the local job's events for a local one
    capsys.readouterr()
    assert main(["logs", str(ray_spec), "--address", ray_address]) == 0
    assert "finished: PARTIALLY_SUCCEEDED" in capsys.readouterr().out
    assert (
        main(["logs", str(local_spec), "--target", "local", "--home", str(tmp_path / "home")]) == 0
    )
    assert "finished: PARTIALLY_SUCCEEDED" in capsys.readouterr().out


def test_a_lost_actor_loses_only_its_shard(backend: RayBackend, tmp_path: Path) -> None:
    write_inputs(tmp_path / "in", files=4, lines=50)
    rows = (tmp_path / "in" / "part-2.jsonl").read_text().splitlines()
    rows[10] = json.dumps({"id": "2-10", "n": 10, "boom": True})
    (tmp_path / "in" / "part-2.jsonl").write_text("\n".join(rows) + "\n")
    marker = tmp_path / "crashed"
    spec = write_spec(
        tmp_path,
        "crash_once",
        model=model("tests.ray.helpers.models:CrashOnce", initArgs={"marker": str(marker)}),
        input={"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
        output={"path": "out"},
        resources={"maxWorkerCount": 2, "batchSize": 8},
        ray={"cpusPerActor": 0.5},
    )
    remote = backend.submit(compiled(spec, Target.RAY))
    done = wait_for(backend, remote.remote_name, timeout=TIMEOUT, poll=0.5)
    assert done.state is JobState.SUCCEEDED, (done.error, backend.logs(remote.remote_name))
    assert marker.exists()  # an actor really died
    assert done.completed_count == 200
    assert {json.loads(x)["key"] for x in lines(tmp_path / "out", "results")} == {
        f"{f}-{i}" for f in range(4) for i in range(50)
    }
    log = backend.logs(remote.remote_name)
    assert "died" in log and "retrying it on a new actor (attempt 2 of 3)" in log
    published = [x for x in log.splitlines() if " published by actor " in x]
    assert len(published) == 4  # finished shards were never redone


def test_cancel_stops_the_job(backend: RayBackend, tmp_path: Path) -> None:
    write_inputs(tmp_path / "in", files=4, lines=1500)
    spec = write_spec(
        tmp_path,
        "slow_job",
        model=model("tests.engine.helpers.models:slow"),
        input={"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
        output={"path": "out"},
        resources={"maxWorkerCount": 1, "batchSize": 10},
        ray={"cpusPerActor": 0.5, "runtimeEnv": {"env_vars": {"SLOW_SECONDS": "0.05"}}},
    )
    remote = backend.submit(compiled(spec, Target.RAY))
    deadline = time.monotonic() + TIMEOUT
    while "loaded the model" not in backend.logs(remote.remote_name):
        assert not backend.get(remote.remote_name).terminal, backend.logs(remote.remote_name)
        assert time.monotonic() < deadline, "the job never got going"
        time.sleep(0.3)
    assert backend.get(remote.remote_name).state is JobState.RUNNING
    asked = backend.cancel(remote.remote_name)
    assert asked.state in (JobState.CANCELLING, JobState.CANCELLED)
    done = wait_for(backend, remote.remote_name, timeout=TIMEOUT, poll=0.5)
    assert done.state is JobState.CANCELLED
    assert done.completed_count < 6000
    log = backend.logs(remote.remote_name)
    assert backend.details(remote.remote_name)["state"] == "CANCELLED", log
    assert "cancel requested" in log
    manifest = json.loads((tmp_path / "out" / "batchspec-manifest.json").read_text())
    assert manifest["state"] == "CANCELLED"
    assert backend.cancel(remote.remote_name).state is JobState.CANCELLED  # idempotent


def test_an_actor_pool_taking_every_cpu_is_refused(backend: RayBackend, tmp_path: Path) -> None:
    write_inputs(tmp_path / "in", files=1, lines=20)
    spec = write_spec(
        tmp_path,
        "greedy",
        model=model("tests.ray.helpers.models:double"),
        input={"format": "JSONL", "paths": ["in/part-*"]},
        output={"path": "out"},
        ray={"cpusPerActor": 2},
    )
    remote = backend.submit(compiled(spec, Target.RAY))
    done = wait_for(backend, remote.remote_name, timeout=TIMEOUT, poll=0.5)
    assert done.state is JobState.FAILED
    assert done.error is not None
    assert "would take every CPU" in done.error and "ray-project/ray#44687" in done.error
    assert "cpusPerActor" in backend.details(remote.remote_name)["error"]["hint"]


def test_a_lost_driver_is_paused_and_resumed_from_published_shards(
    backend: RayBackend, tmp_path: Path
) -> None:
    write_inputs(tmp_path / "in", files=4, lines=200)
    spec = write_spec(
        tmp_path,
        "resumable",
        model=model("tests.engine.helpers.models:slow"),
        input={"format": "JSONL", "paths": ["in/part-*"], "keyField": "id"},
        output={"path": "out"},
        resources={"maxWorkerCount": 1, "batchSize": 10},
        ray={"cpusPerActor": 0.5, "runtimeEnv": {"env_vars": {"SLOW_SECONDS": "0.05"}}},
    )
    job = compiled(spec, Target.RAY)
    first = backend.submit(job)
    deadline = time.monotonic() + TIMEOUT
    while " published by actor " not in backend.logs(first.remote_name):
        assert not backend.get(first.remote_name).terminal, backend.logs(first.remote_name)
        assert time.monotonic() < deadline, "no shard was ever published"
        time.sleep(0.2)
    folder = tmp_path / "cluster-home" / "jobs" / f"resumable-{job.short_fingerprint}"
    driver_pid = json.loads((folder / "status.json").read_text())["pid"]
    os.kill(driver_pid, signal.SIGKILL)  # the driver we started, as a lost head node would

    paused = wait_for(backend, first.remote_name, timeout=TIMEOUT, poll=0.5)
    assert paused.state is JobState.PAUSED, (paused, backend.logs(first.remote_name))
    resumed = backend.submit(job)
    assert resumed.remote_name == first.remote_name + "-2"
    done = wait_for(backend, resumed.remote_name, timeout=TIMEOUT, poll=0.5)
    log = backend.logs(resumed.remote_name)
    assert done.state is JobState.SUCCEEDED, log
    assert "resuming with the saved plan" in log and "shards already published" in log
    assert done.completed_count == 800
    keys = [json.loads(x)["key"] for p in (tmp_path / "out").glob("prediction.results-*")
            for x in p.read_text().splitlines()]  # fmt: skip
    assert len(keys) == len(set(keys)) == 800
