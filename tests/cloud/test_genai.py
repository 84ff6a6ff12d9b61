"""The google-genai backend against the double's v1beta1 endpoint, through the
real `genai.Client(vertexai=True)`."""

from __future__ import annotations

import pytest

from batchspec.backends.base import Backend
from batchspec.backends.genai import GenaiBackend
from batchspec.compile import compile_spec
from batchspec.errors import JobNotFoundError, PermanentBackendError
from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT
from tests.cloud.conftest import PROJECT, REGION, token_credentials


@pytest.fixture
def genai(double, fast_retry):
    return GenaiBackend(
        PROJECT,
        REGION,
        credentials=token_credentials(),
        base_url=double.url + "/",
        **fast_retry,
        timeout=2.0,
        page_size=2,
    )


@pytest.fixture
def job(make_spec):
    return compile_spec(make_spec(target="genai", labels={"team": "growth"}))


def one_job(double, job) -> None:
    fp = job.labels[LABEL_FINGERPRINT]
    assert len(double.jobs_with(fp)) == 1
    creates = [
        c for c in double.create_calls() if c.body.get("labels", {}).get(LABEL_FINGERPRINT) == fp
    ]
    assert len([c for c in creates if c.status in (200, -1)]) == 1


def test_is_a_backend(genai) -> None:
    assert isinstance(genai, Backend)


def test_submit_sends_v1beta1_with_labels_and_adopts(genai, double, job) -> None:
    first = genai.submit(job)
    assert first.state is JobState.PENDING
    assert first.fingerprint == job.labels[LABEL_FINGERPRINT]
    (create,) = double.create_calls("genai")
    assert create.path == f"/v1beta1/projects/{PROJECT}/locations/{REGION}/batchPredictionJobs"
    assert create.body["labels"]["team"] == "growth"
    assert create.body["model"] == "publishers/google/models/gemini-2.0-flash-001"
    assert double.rejected == []
    assert genai.submit(job).remote_name == first.remote_name
    assert len(double.create_calls()) == 1
    one_job(double, job)


def test_throttled_then_lost_create_makes_one_job(double, job, fast_retry) -> None:
    backend = GenaiBackend(
        PROJECT,
        REGION,
        credentials=token_credentials(),
        base_url=double.url + "/",
        **fast_retry,
        timeout=2.0,  # loaded CI machines: never time out by accident
    )
    double.faults.status("create", 429)
    double.faults.timeout("create", delay=5.0)
    remote = backend.submit(job)
    assert len(double.create_calls()) == 2  # the refused one and the lost one
    assert remote.remote_name in double.jobs
    one_job(double, job)


def test_503_on_create(genai, double, job) -> None:
    double.faults.status("create", 503, times=2)
    genai.submit(job)
    one_job(double, job)


def test_partially_succeeded_is_terminal_although_the_sdk_thinks_otherwise(
    genai, double, job
) -> None:
    # google-genai's BatchJob.done checks JOB_STATES_ENDED, which (2.x) lacks
    # PARTIALLY_SUCCEEDED: a caller trusting it would poll such a job forever.
    remote = genai.submit(job)
    double.jobs[remote.remote_name].resource["state"] = "JOB_STATE_PARTIALLY_SUCCEEDED"
    double.advance_on_read = False
    seen = genai.get(remote.remote_name)
    assert seen.state is JobState.PARTIALLY_SUCCEEDED and seen.terminal and seen.state.successful
    assert genai.submit(job).remote_name == remote.remote_name
    one_job(double, job)


def test_states_walk_and_expire(genai, double, job) -> None:
    double.end_next_job_as("EXPIRED")
    remote = genai.submit(job)
    seen = genai.get(remote.remote_name)
    assert seen.state is JobState.EXPIRED and seen.terminal
    assert "deadline" in (seen.error or "")
    assert genai.submit(job).remote_name == remote.remote_name
    one_job(double, job)


def test_cancelled_from_outside_and_cancel(genai, double, job, make_spec) -> None:
    double.advance_on_read = False
    remote = genai.submit(job)
    double.cancel_from_outside(remote.remote_name)
    double.advance(remote.remote_name)
    assert genai.get(remote.remote_name).state is JobState.CANCELLED
    other = genai.submit(compile_spec(make_spec("other", target="genai")))
    assert genai.cancel(other.remote_name).state is JobState.CANCELLING
    double.advance(other.remote_name)
    genai.delete(other.remote_name)
    with pytest.raises(JobNotFoundError):
        genai.get(other.remote_name)


def test_list_by_selector_pages(genai, double, make_spec) -> None:
    for i in range(3):
        genai.submit(compile_spec(make_spec(f"g{i}", target="genai", labels={"team": "t"})))
    before = len([c for c in double.calls if c.call == "list"])
    found = list(genai.list({"team": "t"}))
    assert sorted(j.job_name for j in found) == ["g0", "g1", "g2"]
    assert all(j.labels["team"] == "t" for j in found)
    assert len([c for c in double.calls if c.call == "list"]) - before == 2


def test_403_is_permanent(genai, double, job) -> None:
    double.faults.status("create", 403, message="Vertex AI API has not been used in project")
    with pytest.raises(PermanentBackendError) as info:
        genai.submit(job)
    assert "has not been used" in info.value.message
    assert "gcloud services enable aiplatform.googleapis.com" in (info.value.hint or "")


def test_jobs_are_reached_where_their_own_names_say(double, make_spec, fast_retry) -> None:
    backend = GenaiBackend(
        credentials=token_credentials(), base_url=double.url + "/", env={}, **fast_retry
    )
    job = compile_spec(make_spec(target="genai", project="other-proj", region="europe-west4"))
    remote = backend.submit(job)
    assert remote.remote_name.startswith("projects/other-proj/locations/europe-west4/")
    (create,) = double.create_calls("genai")
    assert create.path == "/v1beta1/projects/other-proj/locations/europe-west4/batchPredictionJobs"
    assert backend.get(remote.remote_name).remote_name == remote.remote_name


def test_listing_without_a_configured_location_is_a_clear_permanent_error() -> None:
    backend = GenaiBackend(env={})
    with pytest.raises(PermanentBackendError, match="no project or region configured") as info:
        backend.list()
    assert "BATCHSPEC_PROJECT" in (info.value.hint or "")
