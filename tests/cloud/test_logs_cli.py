"""`batchspec logs` of Vertex AI jobs: entries read from Cloud Logging through
google-cloud-logging (REST `entries:list` on the double), by remote name, by
the spec name recorded in state, and by the spec file; `--follow` until the
job ends; `-o json` lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchspec.backends.cloudlogs import job_location, log_filter
from batchspec.cli import logs as logs_cli
from batchspec.cli.main import main
from batchspec.testing.specs import spec_doc, write_specs
from tests.cloud.conftest import PROJECT, REGION


@pytest.fixture
def cloud_env(double, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BATCHSPEC_PROJECT", PROJECT)
    monkeypatch.setenv("BATCHSPEC_REGION", REGION)
    monkeypatch.setenv("BATCHSPEC_VERTEX_ENDPOINT", double.url)
    monkeypatch.setenv("BATCHSPEC_LOGGING_ENDPOINT", double.url)
    monkeypatch.setenv("BATCHSPEC_BACKEND_VERTEX", "tests.cloud.test_apply_cli:double_vertex")
    monkeypatch.setenv("BATCHSPEC_STATE", str(tmp_path / "state.db"))
    monkeypatch.setattr(logs_cli, "FOLLOW_POLL", 0.01)
    (spec,) = write_specs(tmp_path / "specs", [spec_doc("review_scores", "vertex")])
    return spec


def submitted(double, spec: Path, capsys) -> str:
    """Apply the spec (submit only); the job's remote name."""
    double.end_next_job_as("FAILED")  # no inputs are read: the job fails when it runs
    assert main(["apply", str(spec.parent), "--yes"]) == 0
    capsys.readouterr()
    (name,) = double.jobs
    return name


def test_logs_by_remote_name_name_and_spec(double, cloud_env: Path, capsys) -> None:
    name = submitted(double, cloud_env, capsys)
    project, job_id = job_location(name)
    double.logs.write(project, job_id, "loading the model", task="workerpool0-0")
    double.logs.write(project, job_id, {"message": "predicted 100 instances", "batch": 3})
    double.logs.write(project, "999", "another job's line")

    assert main(["logs", name]) == 0
    # (reading the job moves it on in the double, which logs that too)
    out = [x for x in capsys.readouterr().out.splitlines() if "Job state" not in x]
    assert [line.split("  ", 1)[1] for line in out] == [
        "loading the model",
        "predicted 100 instances",
    ]
    assert "INFO workerpool0-0" in out[0]
    sent = double.logs.requests[-1]
    assert sent["resourceNames"] == [f"projects/{PROJECT}"]
    assert sent["filter"].startswith(log_filter(job_id))
    assert 'timestamp>="' in sent["filter"]  # else the client would ask for 24 hours only

    for ref in ("review_scores", str(cloud_env)):
        assert main(["logs", ref, "-o", "json"]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        rows = [r for r in rows if not r["message"].startswith("Job state")]
        assert [r["message"] for r in rows] == ["loading the model", "predicted 100 instances"]
        assert set(rows[0]) == {"timestamp", "severity", "source", "message"}


def test_follow_prints_until_the_job_ends(double, cloud_env: Path, capsys) -> None:
    name = submitted(double, cloud_env, capsys)
    assert main(["logs", name, "--follow"]) == 0
    out = capsys.readouterr().out
    # The double moves the job one step per read; each step is logged once.
    lines = [line for line in out.splitlines() if "Job state" in line]
    assert lines[-1].endswith("Job state: JOB_STATE_FAILED")
    assert "ERROR service" in lines[-1]
    assert len(lines) == len(set(lines))


def test_a_vertex_spec_never_asks_to_compile_for_local(double, cloud_env: Path, capsys) -> None:
    assert main(["logs", str(cloud_env)]) == 1
    err = capsys.readouterr().err
    assert "cannot compile for local" not in err
    assert "no submitted job for 'review_scores'" in err


def test_unknown_job(cloud_env: Path, capsys) -> None:
    assert main(["logs", "nothing_like_it"]) == 1
    assert "no job 'nothing_like_it'" in capsys.readouterr().err


def test_ml_engine_job_names() -> None:
    assert job_location("projects/p/jobs/census_1") == ("p", "census_1")
    assert job_location("projects/p/locations/l/batchPredictionJobs/42") == ("p", "42")


@pytest.mark.parametrize("bad", ["projects/p", "census_1"])
def test_not_a_cloud_job_name(bad: str) -> None:
    from batchspec.errors import BackendError

    with pytest.raises(BackendError):
        job_location(bad)


def test_double_refuses_filters_it_does_not_understand(double) -> None:
    status, payload = double.logs.answer(
        {"resourceNames": ["projects/p"], "filter": 'severity>="ERROR"'}
    )
    assert status == 400 and "unsupported" in payload["error"]["message"]
