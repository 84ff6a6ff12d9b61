"""The Vertex AI backend against the REST double, through the real
google-cloud-aiplatform JobServiceClient (REST transport, anonymous
credentials). Every fault ends with exactly one job for the revision."""

from __future__ import annotations

import pytest

from batchspec.backends.base import Backend
from batchspec.backends.cloud import VERTEX_STATE_ORDER, vertex_state
from batchspec.backends.vertex import VertexBackend
from batchspec.compile import compile_spec
from batchspec.errors import JobNotFoundError, PermanentBackendError, TemporaryBackendError
from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT
from tests.cloud.conftest import PROJECT, REGION, anonymous


@pytest.fixture
def job(make_spec):
    return compile_spec(make_spec())


def one_job(double, job) -> None:
    """Exactly one job on the service carries this revision's fingerprint, and
    every create request the double answered (or lost the answer of) for it
    made at most that one job."""
    fp = job.labels[LABEL_FINGERPRINT]
    assert len(double.jobs_with(fp)) == 1
    creates = [
        c for c in double.create_calls() if c.body.get("labels", {}).get(LABEL_FINGERPRINT) == fp
    ]
    assert len([c for c in creates if c.status in (200, -1)]) == 1


def test_is_a_backend(vertex) -> None:
    assert isinstance(vertex, Backend)
    assert vertex.name == "vertex"


def test_submit_creates_once_and_adopts_after(vertex, double, job) -> None:
    first = vertex.submit(job)
    assert first.state is JobState.PENDING
    assert first.fingerprint == job.labels[LABEL_FINGERPRINT]
    assert first.job_name == "scores"
    assert first.remote_name.startswith(
        f"projects/{PROJECT}/locations/{REGION}/batchPredictionJobs/"
    )
    again = vertex.submit(job)
    assert again.remote_name == first.remote_name
    assert len(double.create_calls()) == 1
    one_job(double, job)
    assert double.rejected == []


def test_the_body_on_the_wire_is_the_compiled_body(vertex, double, job) -> None:
    vertex.submit(job)
    (create,) = double.create_calls()
    sent = dict(create.body)
    assert sent["labels"] == dict(job.body["labels"])
    assert sent["inputConfig"] == job.body["inputConfig"]
    assert sent["outputConfig"] == job.body["outputConfig"]
    assert sent["displayName"] == job.body["displayName"]


def test_a_new_revision_is_a_new_job(vertex, double, make_spec) -> None:
    a = vertex.submit(compile_spec(make_spec()))
    b = vertex.submit(compile_spec(make_spec(output={"path": "gs://out-bucket/v2/"})))
    assert a.remote_name != b.remote_name
    assert len(double.jobs) == 2


@pytest.mark.parametrize("status", [429, 503])
def test_throttled_create_is_retried_once_per_backoff(vertex, double, job, sleeps, status) -> None:
    double.faults.status("create", status, times=2)
    remote = vertex.submit(job)
    assert remote.state is JobState.PENDING
    assert len(double.create_calls()) == 3
    assert len(sleeps) == 2
    one_job(double, job)


def test_500_on_create_lists_before_retrying(vertex, double, job) -> None:
    double.faults.status("create", 500)
    vertex.submit(job)
    calls = [c.call for c in double.calls]
    assert calls == ["list", "create", "list", "create"]
    one_job(double, job)


def test_lost_answer_to_a_create_is_adopted_not_repeated(double, job, fast_retry) -> None:
    """The create happened, its answer never came (client timeout): the retry
    lists by fingerprint, finds the job and adopts it."""
    backend = VertexBackend(
        PROJECT,
        REGION,
        credentials=anonymous(),
        api_endpoint=double.url,
        **fast_retry,
        timeout=2.0,  # loaded CI machines: never time out by accident
    )
    double.faults.timeout("create", delay=5.0)
    remote = backend.submit(job)
    assert len(double.create_calls()) == 1
    one_job(double, job)
    assert remote.remote_name in double.jobs
    assert [c.call for c in double.calls] == ["list", "create", "list"]


def test_dropped_connection_after_create_is_adopted(vertex, double, job) -> None:
    double.faults.drop("create")
    remote = vertex.submit(job)
    assert len(double.create_calls()) == 1
    one_job(double, job)
    assert remote.remote_name in double.jobs


def test_a_failing_list_is_retried_and_never_skipped(vertex, double, job) -> None:
    double.faults.status("list", 503, times=2)
    vertex.submit(job)
    assert [c.call for c in double.calls][-2:] == ["list", "create"]
    one_job(double, job)


def test_403_fails_at_once_with_the_service_message(vertex, double, job, sleeps) -> None:
    double.faults.status(
        "create", 403, message="Permission 'aiplatform.batchPredictionJobs.create' denied"
    )
    with pytest.raises(PermanentBackendError) as info:
        vertex.submit(job)
    assert "aiplatform.batchPredictionJobs.create" in info.value.message
    assert "roles/aiplatform.user" in (info.value.hint or "")
    assert "gcloud services enable aiplatform.googleapis.com" in (info.value.hint or "")
    assert sleeps == []
    assert double.jobs == {}


def test_400_from_the_service_is_permanent(vertex, double, job) -> None:
    double.faults.status("create", 400, message="Region us-central1 does not support this model")
    with pytest.raises(PermanentBackendError) as info:
        vertex.submit(job)
    assert "does not support" in info.value.message
    assert REGION in (info.value.hint or "")


def test_temporary_errors_past_the_deadline_give_up(double, job, sleeps) -> None:
    from batchspec.retry import RetryPolicy

    backend = VertexBackend(
        PROJECT,
        REGION,
        credentials=anonymous(),
        api_endpoint=double.url,
        retry=RetryPolicy(max_attempts=3),
        clock=sleeps,
    )
    double.faults.status("create", 429, times=10)
    with pytest.raises(TemporaryBackendError) as info:
        backend.submit(job)
    assert "gave up after 3 attempts" in info.value.message
    assert "RESOURCE_EXHAUSTED" in info.value.message  # the service's own words stay
    assert "quota" in (info.value.hint or "")
    assert len(sleeps) == 2
    assert double.jobs == {}


def test_job_walks_to_success_with_progress_and_outputs(
    vertex, double, make_spec, gcs, bucket
) -> None:
    gcs.pipe(f"{bucket}/in/part-1.jsonl", b'{"x": 1}\n{"x": 2}\n{"x": 3}\n')
    doc_job = compile_spec(
        make_spec(input={"paths": [f"gs://{bucket}/in/*"]}, output={"path": f"gs://{bucket}/out/"})
    )
    remote = vertex.submit(doc_job)
    states = [remote.state]
    while not remote.terminal:
        remote = vertex.get(remote.remote_name)
        states.append(remote.state)
    assert states == [JobState.PENDING, JobState.RUNNING, JobState.SUCCEEDED]
    assert (remote.completed_count, remote.failed_count, remote.total_count) == (3, 0, 3)
    assert remote.output_location and remote.output_location.startswith(
        f"gs://{bucket}/out/prediction-"
    )
    created = double.jobs[remote.remote_name].resource["createTime"]
    assert created[:19].replace(":", "") not in remote.output_location.replace(":", "")
    files = vertex.outputs(remote.remote_name)
    assert [f.rsplit("/", 1)[-1] for f in files] == ["predictions_0001.jsonl"]


def test_partially_succeeded_is_terminal_with_failures_surfaced(
    vertex, double, job, gcs, bucket, make_spec
) -> None:
    gcs.pipe(f"{bucket}/in/a.jsonl", b"".join(b'{"i": %d}\n' % i for i in range(6)))
    spec_job = compile_spec(
        make_spec(input={"paths": [f"gs://{bucket}/in/*"]}, output={"path": f"gs://{bucket}/o/"})
    )
    double.end_next_job_as("PARTIALLY_SUCCEEDED")
    remote = vertex.submit(spec_job)
    double.finish(remote.remote_name)
    remote = vertex.get(remote.remote_name)
    assert remote.state is JobState.PARTIALLY_SUCCEEDED
    assert remote.terminal and remote.state.successful
    assert (remote.completed_count, remote.failed_count) == (4, 2)
    assert remote.partial_failures == ("2 instance(s) could not be scored (code 3)",)
    names = sorted(f.rsplit("/", 1)[-1] for f in vertex.outputs(remote.remote_name))
    assert names == ["errors_0001.jsonl", "predictions_0001.jsonl"]
    assert vertex.submit(spec_job).remote_name == remote.remote_name
    one_job(double, spec_job)


def test_expired_job_is_terminal_and_not_resubmitted(vertex, double, job) -> None:
    double.end_next_job_as("EXPIRED")
    remote = vertex.submit(job)
    double.finish(remote.remote_name)
    remote = vertex.get(remote.remote_name)
    assert remote.state is JobState.EXPIRED
    assert remote.terminal and not remote.state.successful
    assert "deadline" in (remote.error or "")
    assert remote.output_location is None
    assert vertex.outputs(remote.remote_name) == []
    assert vertex.submit(job).remote_name == remote.remote_name
    one_job(double, job)


def test_failed_job_reports_the_service_error(vertex, double, job) -> None:
    double.end_next_job_as("FAILED")
    remote = vertex.submit(job)
    double.finish(remote.remote_name)
    remote = vertex.get(remote.remote_name)
    assert remote.state is JobState.FAILED
    assert remote.error == "injected failure: model crashed (code 13)"


def test_cancelled_from_outside(vertex, double, job) -> None:
    remote = vertex.submit(job)
    double.cancel_from_outside(remote.remote_name)
    seen = vertex.get(remote.remote_name)
    assert seen.state is JobState.CANCELLED
    assert seen.terminal
    assert vertex.submit(job).remote_name == remote.remote_name
    one_job(double, job)


def test_cancel_and_then_delete(vertex, double, job) -> None:
    double.advance_on_read = False
    remote = vertex.submit(job)
    with pytest.raises(PermanentBackendError, match="only finished jobs"):
        vertex.delete(remote.remote_name)
    cancelling = vertex.cancel(remote.remote_name)
    assert cancelling.state is JobState.CANCELLING and not cancelling.terminal
    double.advance(remote.remote_name)
    cancels = len([c for c in double.calls if c.call == "cancel"])
    assert vertex.cancel(remote.remote_name).state is JobState.CANCELLED
    assert len([c for c in double.calls if c.call == "cancel"]) == cancels  # no second request
    vertex.delete(remote.remote_name)
    with pytest.raises(JobNotFoundError):
        vertex.get(remote.remote_name)


def test_get_unknown_job(vertex) -> None:
    with pytest.raises(JobNotFoundError):
        vertex.get(f"projects/{PROJECT}/locations/{REGION}/batchPredictionJobs/42")


def test_list_filters_by_labels_and_pages(vertex, double, make_spec) -> None:
    names = []
    for i in range(5):
        labels = {"team": "search" if i % 2 else "growth"}
        names.append(vertex.submit(compile_spec(make_spec(f"job{i}", labels=labels))))
    before = len([c for c in double.calls if c.call == "list"])
    everything = list(vertex.list({"managed-by": "batchspec"}))
    pages = len([c for c in double.calls if c.call == "list"]) - before
    assert len(everything) == 5
    assert pages == 3  # page size 2: one call per page, never per job
    search = list(vertex.list({"team": "search"}))
    assert sorted(j.job_name for j in search) == ["job1", "job3"]
    assert list(vertex.list({"team": "nobody"})) == []


@pytest.mark.parametrize("number, state", list(enumerate(VERTEX_STATE_ORDER)))
def test_all_twelve_states_by_number_and_name(number, state) -> None:
    assert vertex_state(number) is state
    assert vertex_state(f"JOB_STATE_{state.value}") is state
    assert state.terminal == (
        state
        in {
            JobState.SUCCEEDED,
            JobState.FAILED,
            JobState.CANCELLED,
            JobState.EXPIRED,
            JobState.PARTIALLY_SUCCEEDED,
        }
    )


def test_paused_and_updating_are_not_terminal() -> None:
    assert not vertex_state("JOB_STATE_PAUSED").terminal
    assert not vertex_state("JOB_STATE_UPDATING").terminal
    assert vertex_state("JOB_STATE_SOMETHING_NEW") is JobState.UNSPECIFIED
    assert vertex_state(99) is JobState.UNSPECIFIED


def test_paused_job_read_from_the_service(vertex, double, job) -> None:
    remote = vertex.submit(job)
    double.jobs[remote.remote_name].resource["state"] = "JOB_STATE_PAUSED"
    double.advance_on_read = False
    seen = vertex.get(remote.remote_name)
    assert seen.state is JobState.PAUSED and not seen.terminal


def test_wrong_target_is_refused(vertex, make_spec) -> None:
    with pytest.raises(PermanentBackendError, match="not vertex"):
        vertex.submit(compile_spec(make_spec(target="mlengine")))


def test_project_and_region_from_the_environment() -> None:
    backend = VertexBackend(env={"BATCHSPEC_PROJECT": "p-env", "BATCHSPEC_REGION": "europe-west4"})
    assert backend.location.parent == "projects/p-env/locations/europe-west4"


def test_jobs_can_walk_by_the_clock_instead_of_by_reads(vertex, double, job) -> None:
    now = [100.0]
    double.step_seconds = 10.0
    double.clock = lambda: now[0]
    remote = vertex.submit(job)
    double.jobs[remote.remote_name].stepped_at = now[0]
    assert vertex.get(remote.remote_name).state is JobState.PENDING
    assert vertex.get(remote.remote_name).state is JobState.PENDING  # polling changes nothing
    now[0] += 10.0
    assert vertex.get(remote.remote_name).state is JobState.RUNNING


def test_fingerprint_read_back_is_the_label_form(vertex, job) -> None:
    from batchspec.backends.cloud import same_revision

    remote = vertex.get(vertex.submit(job).remote_name)
    assert remote.fingerprint != job.fingerprint  # 63 of 64 hex digits
    assert same_revision(remote.fingerprint, job.fingerprint)
    assert not same_revision(remote.fingerprint, "0" * 64)
    assert not same_revision(None, job.fingerprint)


# --- where jobs live --------------------------------------------------------------------


def test_jobs_are_reached_where_their_own_names_say(double, make_spec, fast_retry) -> None:
    """A backend with no configured location (as the registry makes it with an
    empty environment) submits, reads and cancels jobs in any project and region."""
    backend = VertexBackend(credentials=anonymous(), api_endpoint=double.url, env={}, **fast_retry)
    assert backend.location.project is None and backend.location.region is None
    job = compile_spec(
        make_spec(
            project="other-proj",
            region="europe-west4",
            model={"resource": "projects/other-proj/locations/europe-west4/models/9"},
        )
    )
    double.advance_on_read = False
    remote = backend.submit(job)
    assert remote.remote_name.startswith(
        "projects/other-proj/locations/europe-west4/batchPredictionJobs/"
    )
    (create,) = double.create_calls()
    assert create.path.startswith("/v1/projects/other-proj/locations/europe-west4/")
    assert backend.get(remote.remote_name).remote_name == remote.remote_name
    assert backend.cancel(remote.remote_name).state is JobState.CANCELLING
    cancel = next(c for c in double.calls if c.call == "cancel")
    assert cancel.path.startswith("/v1/projects/other-proj/locations/europe-west4/")


def test_listing_without_a_configured_location_is_a_clear_permanent_error() -> None:
    backend = VertexBackend(env={"BATCHSPEC_PROJECT": "p"})
    with pytest.raises(PermanentBackendError, match="no region configured") as info:
        backend.list({"team": "x"})
    assert "BATCHSPEC_REGION" in (info.value.hint or "")
    with pytest.raises(PermanentBackendError, match="names no location"):
        backend.get("batchPredictionJobs/123")


# --- inside the controller's retry loop -------------------------------------------------


def test_inside_an_outer_loop_the_backend_makes_one_attempt_per_retry(
    vertex, double, job, sleeps
) -> None:
    """Under the controller's loop the backend's own policy and clock stand
    aside: the outer schedule retries the whole list-then-create, its recover
    hook runs after the lost answer, and retries do not multiply."""
    from batchspec.backends.base import choose_adopted
    from batchspec.retry import RetryPolicy, call_with_retry
    from batchspec.testing.clock import FakeClock

    fp = job.labels[LABEL_FINGERPRINT]
    outer = FakeClock()
    lookups = []

    def recover():
        lookups.append(1)
        return choose_adopted(vertex.list({LABEL_FINGERPRINT: fp}))

    double.faults.status("create", 503, times=2)
    double.faults.drop("create")
    remote = call_with_retry(
        lambda: vertex.submit(job),
        what="submitting scores",
        policy=RetryPolicy(initial=1.0, deadline=60.0),
        clock=outer,
        recover=recover,
    )
    assert remote.remote_name in double.jobs
    assert len(outer.sleeps) == 3 and sleeps == []
    assert lookups == [1]
    assert [c.call for c in double.calls] == ["list", "create"] * 3 + ["list"]
    one_job(double, job)


def test_inside_an_outer_loop_the_outer_attempts_bound_the_calls(
    vertex, double, job, sleeps
) -> None:
    from batchspec.retry import RetryPolicy, call_with_retry
    from batchspec.testing.clock import FakeClock

    double.faults.status("create", 429, times=50)
    with pytest.raises(TemporaryBackendError) as info:
        call_with_retry(
            lambda: vertex.submit(job),
            what="submitting scores",
            policy=RetryPolicy(max_attempts=3),
            clock=FakeClock(),
        )
    assert len(double.create_calls()) == 3  # not 3 x the backend's own attempts
    assert sleeps == []
    assert info.value.message.startswith("submitting scores: gave up after 3 attempts")
    assert "quota" in (info.value.hint or "")
    assert double.jobs == {}
