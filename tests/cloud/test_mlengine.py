"""The ML Engine backend against the double's `ml` v1 endpoint, through
google-api-python-client (static discovery). The job id is the idempotency
key: every fault ends with one job."""

from __future__ import annotations

import pytest

from batchspec.backends.base import Backend, find_job
from batchspec.backends.mlengine import MLEngineBackend, mlengine_state, spec_name
from batchspec.compile import compile_spec, mlengine_job_id
from batchspec.errors import JobNotFoundError, PermanentBackendError
from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT
from tests.cloud.conftest import PROJECT, REGION, anonymous


@pytest.fixture
def ml(double, fast_retry):
    return MLEngineBackend(
        PROJECT,
        REGION,
        credentials=anonymous(),
        api_endpoint=double.url,
        **fast_retry,
        timeout=2.0,
        page_size=2,
    )


@pytest.fixture
def job(make_spec):
    return compile_spec(make_spec("census", target="mlengine"))


def one_job(double, job) -> None:
    """One job for the revision; every other create of it was refused (409)."""
    fp = job.labels[LABEL_FINGERPRINT]
    assert len(double.jobs_with(fp)) == 1
    creates = [
        c for c in double.create_calls() if c.body.get("labels", {}).get(LABEL_FINGERPRINT) == fp
    ]
    assert len([c for c in creates if c.status in (200, -1)]) == 1


def test_is_a_backend(ml) -> None:
    assert isinstance(ml, Backend)


def test_submit_then_409_adopts(ml, double, job) -> None:
    first = ml.submit(job)
    job_id = mlengine_job_id("census", job.fingerprint)
    assert first.remote_name == f"projects/{PROJECT}/jobs/{job_id}"
    assert first.state is JobState.QUEUED
    assert first.job_name == "census"
    again = ml.submit(job)
    assert again.remote_name == first.remote_name
    assert [c.status for c in double.create_calls()] == [200, 409]
    one_job(double, job)
    assert double.rejected == []


def test_lost_answer_then_409_adopts(double, job, fast_retry) -> None:
    backend = MLEngineBackend(
        PROJECT,
        REGION,
        credentials=anonymous(),
        api_endpoint=double.url,
        **fast_retry,
        timeout=2.0,  # loaded CI machines: never time out by accident
    )
    double.faults.timeout("create", delay=5.0)
    remote = backend.submit(job)
    assert [c.status for c in double.create_calls()] == [-1, 409]
    assert remote.remote_name in double.jobs
    one_job(double, job)


def test_dropped_connection_on_create(ml, double, job) -> None:
    double.faults.drop("create")
    remote = ml.submit(job)
    assert remote.remote_name in double.jobs
    assert double.create_calls()[-1].status == 409
    one_job(double, job)


@pytest.mark.parametrize("status", [429, 503])
def test_throttled_create(ml, double, job, sleeps, status) -> None:
    double.faults.status("create", status)
    ml.submit(job)
    assert len(sleeps) == 1
    one_job(double, job)


def test_another_jobs_id_moves_to_the_next_attempt(ml, double, job) -> None:
    """A job with our derived id but another fingerprint is not ours: use `_r1`."""
    from batchspec.testing.cloud import StoredJob

    taken = f"projects/{PROJECT}/jobs/{mlengine_job_id('census', job.fingerprint)}"
    double.jobs[taken] = StoredJob(
        "mlengine",
        taken,
        {
            "jobId": taken.rsplit("/", 1)[-1],
            "state": "SUCCEEDED",
            "labels": {LABEL_FINGERPRINT: "someone-else"},
            "predictionInput": {"outputPath": "gs://x/"},
        },
        [],
        "SUCCEEDED",
    )
    remote = ml.submit(job)
    assert remote.remote_name.endswith(mlengine_job_id("census", job.fingerprint, 1))
    assert remote.remote_name.endswith("_r1")
    assert remote.job_name == "census"
    assert ml.submit(job).remote_name == remote.remote_name
    one_job(double, job)


def test_walks_states_and_finds_outputs(ml, double, make_spec, gcs, bucket) -> None:
    gcs.pipe(f"{bucket}/in/a.json", b'{"key": 1, "x": 1}\n{"key": 2, "x": 2}\n{"key": 3, "x": 3}\n')
    gcs.pipe(f"{bucket}/out/unrelated.txt", b"not ours")
    job = compile_spec(
        make_spec(
            "census",
            target="mlengine",
            input={"paths": [f"gs://{bucket}/in/*"], "format": "JSONL"},
            output={"path": f"gs://{bucket}/out/"},
        )
    )
    double.end_next_job_as("PARTIALLY_SUCCEEDED")
    remote = ml.submit(job)
    states = [remote.state]
    while not remote.terminal:
        remote = ml.get(remote.remote_name)
        states.append(remote.state)
    assert states == [JobState.QUEUED, JobState.PENDING, JobState.RUNNING, JobState.SUCCEEDED]
    assert (remote.completed_count, remote.failed_count) == (2, 1)
    names = [f.rsplit("/", 1)[-1] for f in ml.outputs(remote.remote_name)]
    assert names == [
        "prediction.errors_stats-00000-of-00001",
        "prediction.results-00000-of-00001",
    ]


def test_cancel_and_cancelled_from_outside(ml, double, job, make_spec) -> None:
    double.advance_on_read = False
    remote = ml.submit(job)
    assert ml.cancel(remote.remote_name).state is JobState.CANCELLING
    double.advance(remote.remote_name)
    assert ml.get(remote.remote_name).state is JobState.CANCELLED
    other = ml.submit(compile_spec(make_spec("other", target="mlengine")))
    double.cancel_from_outside(other.remote_name)
    double.advance(other.remote_name)
    assert ml.cancel(other.remote_name).state is JobState.CANCELLED


def test_list_and_find(ml, double, make_spec) -> None:
    jobs = [compile_spec(make_spec(f"j{i}", target="mlengine")) for i in range(3)]
    for j in jobs:
        ml.submit(j)
    assert sorted(r.job_name for r in ml.list({"managed-by": "batchspec"})) == ["j0", "j1", "j2"]
    found = find_job(ml, jobs[1])
    assert found is not None and found.job_name == "j1"


def test_unknown_job_and_refusals(ml, double, job) -> None:
    with pytest.raises(JobNotFoundError):
        ml.get(f"projects/{PROJECT}/jobs/nope")
    double.faults.status("create", 403, message="Cloud ML Engine API has been shut down")
    with pytest.raises(PermanentBackendError) as info:
        ml.submit(job)
    assert "shut down" in info.value.message


@pytest.mark.parametrize(
    "name, state",
    [
        ("STATE_UNSPECIFIED", JobState.UNSPECIFIED),
        ("QUEUED", JobState.QUEUED),
        ("PREPARING", JobState.PENDING),
        ("RUNNING", JobState.RUNNING),
        ("SUCCEEDED", JobState.SUCCEEDED),
        ("FAILED", JobState.FAILED),
        ("CANCELLING", JobState.CANCELLING),
        ("CANCELLED", JobState.CANCELLED),
        ("SOMETHING_NEW", JobState.UNSPECIFIED),
    ],
)
def test_state_mapping(name, state) -> None:
    assert mlengine_state(name) is state


def test_spec_name_from_derived_ids() -> None:
    fp = "57549016ab5273b4716e9db372b9532c"
    assert spec_name(mlengine_job_id("census_v2", fp), {}) == "census_v2"
    assert spec_name(mlengine_job_id("census_v2", fp, 3), {}) == "census_v2"
    assert spec_name("hand_made_job", {"batchspec-job": "x"}) == "x"


def test_jobs_are_reached_in_their_own_project(double, make_spec, fast_retry) -> None:
    backend = MLEngineBackend(
        credentials=anonymous(), api_endpoint=double.url, env={}, **fast_retry
    )
    job = compile_spec(make_spec("census", target="mlengine", project="other-proj"))
    remote = backend.submit(job)
    assert remote.remote_name.startswith("projects/other-proj/jobs/census_")
    assert backend.get(remote.remote_name).remote_name == remote.remote_name


def test_listing_needs_a_configured_project_but_no_region() -> None:
    with pytest.raises(PermanentBackendError, match="no project configured") as info:
        MLEngineBackend(env={}).list()
    assert "BATCHSPEC_PROJECT" in (info.value.hint or "")
    assert iter(MLEngineBackend(env={"GOOGLE_CLOUD_PROJECT": "p"}).list()) is not None
