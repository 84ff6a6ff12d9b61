"""`target: ray` with `model: {ref: NAME}`: the job runs the Model document's
container as the local engine does (its host command where no container
engine answers, from the Model document's folder), checked at validate time
like every other reference, and run for real on the local cluster."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from batchspec.backends.base import wait_for
from batchspec.backends.ray import RayBackend
from batchspec.compile import compile_paths
from batchspec.model.enums import JobState, Target
from batchspec.model.runners import ContainerRunner
from batchspec.testing.specs import host_model_doc, spec_doc
from batchspec.validate import validate_paths

SERVER = Path(__file__).resolve().parents[1] / "engine" / "helpers" / "model_server.py"
TIMEOUT = 120.0


@pytest.fixture(autouse=True)
def _project(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the Model would be uploaded (a Model document compiles for Vertex AI too)."""
    monkeypatch.setenv("BATCHSPEC_PROJECT", "p")
    monkeypatch.setenv("BATCHSPEC_REGION", "us-central1")


def write_specs(folder: Path, ref: str = "scorer") -> Path:
    """A Model document in models/ (its server beside it) and a Ray job in jobs/."""
    (folder / "models").mkdir(parents=True)
    (folder / "jobs").mkdir()
    shutil.copy(SERVER, folder / "models" / "server.py")
    model = host_model_doc([sys.executable, "server.py"])
    job = spec_doc(
        "ray_scores",
        "ray",
        merge=False,
        model={"ref": ref},
        input={"format": "JSONL", "paths": [str(folder / "in" / "part-*")], "keyField": "id"},
        output={"path": str(folder / "out")},
        resources={"maxWorkerCount": 2, "batchSize": 4},
        ray={"cpusPerActor": 0.5},
    )
    (folder / "models" / "scorer.yaml").write_text(json.dumps(model, indent=1))
    (folder / "jobs" / "ray_scores.yaml").write_text(json.dumps(job, indent=1))
    return folder


def test_a_ray_job_naming_a_model_validates_and_runs_its_container(tmp_path: Path) -> None:
    specs = write_specs(tmp_path)
    result = validate_paths([str(specs / "models"), str(specs / "jobs")])
    assert result.ok and result.diagnostics == [], [d.message for d in result.diagnostics]
    compiled = compile_paths([str(specs / "models"), str(specs / "jobs")], target=Target.RAY)
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    (job,) = compiled.jobs
    runner = job.effective.model.local
    assert isinstance(runner, ContainerRunner)
    assert runner.image == "us-docker.pkg.dev/p/r/server:1" and runner.engine == "host"
    assert runner.host_command == [sys.executable, "server.py"]
    assert runner.host_dir == "../models"  # run from the Model document's folder
    assert "ray" in job.body["spec"] and job.body["spec"]["model"]["local"]["runner"] == "container"


def test_a_ray_job_naming_no_model_is_refused_at_validate_time(tmp_path: Path) -> None:
    specs = write_specs(tmp_path, ref="missing")
    result = validate_paths([str(specs / "models"), str(specs / "jobs")])
    assert not result.ok
    (found,) = [d for d in result.diagnostics if d.code == "BS402"]
    assert "missing" in found.message and found.file is not None
    assert found.file.endswith("ray_scores.yaml") and found.line is not None


def test_a_ray_job_runs_the_models_container_on_the_cluster(
    ray_address: str, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path)
    (specs / "in").mkdir()
    for f in range(2):
        rows = [
            {"id": f"{f}-{i}", "text": "garbled" if (f, i) == (1, 2) else "t"} for i in range(6)
        ]
        (specs / "in" / f"part-{f}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    compiled = compile_paths([str(specs / "models"), str(specs / "jobs")], target=Target.RAY)
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    backend = RayBackend(ray_address, cluster_home=str(tmp_path / "cluster-home"))
    remote = backend.submit(compiled.jobs[0])
    done = wait_for(backend, remote.remote_name, timeout=TIMEOUT, poll=0.5)
    log = backend.logs(remote.remote_name)
    assert done.state is JobState.PARTIALLY_SUCCEEDED, (done.error, log)
    assert (done.completed_count, done.failed_count) == (11, 1)
    results = [json.loads(x) for p in (specs / "out").glob("prediction.results-*") for x in
               p.read_text().splitlines()]  # fmt: skip
    assert len(results) == 11 and all(r["prediction"]["model"] == "ray_scores" for r in results)
    (error,) = [json.loads(x) for p in (specs / "out").glob("prediction.errors_stats-*") for x in
                p.read_text().splitlines()]  # fmt: skip
    assert error["key"] == "1-2" and "[BS510 bad-answer]" in error["error"]["message"]
