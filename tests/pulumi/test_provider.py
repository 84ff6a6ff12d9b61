"""The BatchPredictionJob provider's check, diff, create, read, update and
delete, called directly (Pulumi never runs dynamic providers under mocks)
against the local backend: real engine jobs, tmp state and home."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from batchspec.model.enums import JobState
from batchspec.model.jobs import RemoteJob
from batchspec.pulumi.provider import UNKNOWN, BatchPredictionJobProvider, ProviderError
from batchspec.state.lease import WRITER_LEASE, Lease, this_process
from batchspec.state.records import Disposition, Phase
from batchspec.state.store import StateStore
from tests.pulumi import crashing
from tests.pulumi.conftest import REPO, SLOW, Project, ended, local_spec, running, wait_until

provider = BatchPredictionJobProvider()


def records(project: Project, name: str = "scores") -> list:  # type: ignore[type-arg]
    with StateStore.open(project.state) as store:
        return store.all_jobs(name=name)


def events(project: Project, job_id: int) -> list[str]:
    with StateStore.open(project.state) as store:
        return [t.event for t in store.transitions(job_id=job_id)]


# --- check -------------------------------------------------------------------------


def test_check_accepts_what_the_program_produces(project: Project) -> None:
    project.write(local_spec())
    inputs = project.props().to_inputs()
    result = provider.check({}, inputs)
    assert result.failures == []
    assert result.inputs == inputs


def test_check_names_each_malformed_input(project: Project) -> None:
    project.write(local_spec())
    inputs = project.props().to_inputs()
    inputs.update(
        fingerprint="abc",
        statePath="relative/state.db",
        target="mainframe",
        labels={"api_token": "s3cret"},
    )
    del inputs["specFile"]
    failures = {f.property: f.reason for f in provider.check({}, inputs).failures}
    assert set(failures) == {"fingerprint", "statePath", "target", "labels", "specFile"}
    assert "secret" in failures["labels"]


def test_check_refuses_a_spec_changed_since_the_program_ran(project: Project) -> None:
    path = project.write(local_spec())
    inputs = project.props().to_inputs()
    doc = local_spec()
    doc["spec"]["resources"]["batchSize"] = 4
    path.write_text(json.dumps(doc))
    [failure] = provider.check({}, inputs).failures
    assert failure.property == "fingerprint"
    assert "changed since the program read it" in failure.reason


def test_check_reports_a_spec_that_no_longer_validates(project: Project) -> None:
    path = project.write(local_spec())
    inputs = project.props().to_inputs()
    path.write_text(path.read_text().replace('"JSONL"', '"PARQUET"'))
    [failure] = provider.check({}, inputs).failures
    assert failure.property == "specFile"
    assert "job.yaml" in failure.reason


def test_check_leaves_unknown_values_for_later(project: Project) -> None:
    project.write(local_spec())
    inputs = {**project.props().to_inputs(), "specFile": UNKNOWN}
    assert provider.check({}, inputs).failures == []


# --- diff --------------------------------------------------------------------------


def test_diff_replaces_on_a_new_fingerprint_deleting_the_old_job_first(project: Project) -> None:
    project.write(local_spec())
    olds = project.props().to_inputs()
    assert provider.diff("id", olds, dict(olds)).changes is False
    news = {**olds, "fingerprint": "f" * 64}
    result = provider.diff("id", olds, news)
    assert result.changes is True
    assert result.replaces == ["fingerprint"]
    assert result.delete_before_replace is True


def test_diff_updates_in_place_when_only_operational_inputs_move(project: Project) -> None:
    project.write(local_spec())
    olds = project.props().to_inputs()
    result = provider.diff("id", olds, {**olds, "lockTimeout": 5.0, "statePath": "/x/state.db"})
    assert result.changes is True
    assert result.replaces == []


def test_diff_replaces_when_the_region_moves(project: Project) -> None:
    project.write(local_spec())
    olds = project.props().to_inputs()
    assert provider.diff("id", olds, {**olds, "region": "europe-west4"}).replaces == ["region"]


# --- create, read ------------------------------------------------------------------


def test_create_runs_the_job_and_read_follows_it_to_the_end(project: Project) -> None:
    project.write(local_spec())
    props = project.props()
    created = provider.create(props.to_inputs())
    assert created.id == f"scores-{props.fingerprint[:12]}"
    outs = created.outs
    assert outs is not None
    assert outs["jobName"] == created.id
    assert outs["backend"] == "local"
    assert outs["adopted"] is False
    assert outs["fingerprint"] == props.fingerprint
    [record] = records(project)
    assert record.remote_name == created.id and record.phase is Phase.SUBMITTED
    assert events(project, record.id)[:2] == ["intent", "submitted"]

    wait_until(lambda: project.backend.get(created.id), ended)
    read = provider.read(created.id, outs)
    assert read.id == created.id
    assert read.outs is not None
    assert read.outs["state"] == "SUCCEEDED"
    assert read.outs["completedCount"] == 6
    assert read.outs["outputDirectory"] == str(project.specs / "out" / "scores")
    assert (project.specs / "out" / "scores").is_dir()
    # refresh recorded what it saw
    [record] = records(project)
    assert record.state is JobState.SUCCEEDED


def test_create_of_the_same_revision_again_adopts_the_job(project: Project) -> None:
    project.write(local_spec())
    inputs = project.props().to_inputs()
    first = provider.create(inputs)
    second = provider.create(inputs)
    assert second.id == first.id
    assert second.outs is not None and second.outs["adopted"] is True
    assert project.job_dirs() == [first.id]
    assert len(records(project)) == 1


def test_create_after_a_crash_between_submit_and_record_adopts(project: Project) -> None:
    """The process dies (os._exit) after the backend created the job and before
    the state recorded it, holding the writer lease: the next create takes the
    stale lease over, finds the job by its submit key and adopts it."""
    project.write(local_spec())
    inputs = project.props().to_inputs()
    code = (
        "import json, sys\n"
        "from batchspec.pulumi.provider import BatchPredictionJobProvider\n"
        "BatchPredictionJobProvider().create(json.loads(sys.argv[1]))\n"
    )
    env = {
        **os.environ,
        "BATCHSPEC_BACKEND_LOCAL": "tests.pulumi.crashing:after_submit",
        crashing.HOME_ENV: str(project.home),
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(inputs)],
        cwd=REPO,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert proc.returncode == crashing.CRASH_CODE, proc.stderr
    [intent] = records(project)
    assert intent.phase is Phase.INTENT and intent.remote_name is None
    [job_dir] = project.job_dirs()

    created = provider.create(inputs)
    assert created.id == job_dir
    assert created.outs is not None and created.outs["adopted"] is True
    assert project.job_dirs() == [job_dir]
    [record] = records(project)
    assert record.id == intent.id and record.remote_name == job_dir
    assert events(project, record.id)[:2] == ["intent", "adopted"]
    with StateStore.open(project.state) as store:  # the dead process's lease was taken over
        assert any("pulumi (batchspec provider)" in e.message for e in store.audit_entries())


def test_batchspec_apply_then_pulumi_create_is_one_job(project: Project) -> None:
    spec = project.write(local_spec())
    env = {**os.environ, "BATCHSPEC_HOME": str(project.home), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "batchspec", "apply", str(spec), "--state", str(project.state)],
        cwd=project.root,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [applied] = project.job_dirs()

    created = provider.create(project.props().to_inputs())
    assert created.id == applied
    assert created.outs is not None and created.outs["adopted"] is True
    assert project.job_dirs() == [applied]
    assert len(records(project)) == 1


def test_pulumi_create_then_batchspec_apply_changes_nothing(project: Project) -> None:
    from batchspec.backends.local import LocalBackend
    from batchspec.backends.registry import BackendRegistry
    from batchspec.plan import load_desired
    from batchspec.reconcile.apply import ApplyContext, apply_desired

    spec = project.write(local_spec())
    created = provider.create(project.props().to_inputs())
    registry = BackendRegistry()
    registry.register("local", lambda: LocalBackend(project.home))
    with StateStore.open(project.state) as store:
        ctx = ApplyContext(store=store, provider=registry, actor="test-apply")
        result = apply_desired(ctx, load_desired([str(spec)]))
    assert not result.plan.has_changes
    assert project.job_dirs() == [created.id]


def test_create_waits_for_the_writer_lease_held_by_an_apply(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write(local_spec())
    inputs = {**project.props().to_inputs(), "lockTimeout": 0.3}
    taken, release, blocked = threading.Event(), threading.Event(), threading.Event()
    try_acquire = Lease._try_acquire

    def noting_the_wait(self: Lease, **kwargs: Any) -> Any:
        blocker = try_acquire(self, **kwargs)
        if blocker is not None:
            blocked.set()  # the create found the lease held and is waiting
        return blocker

    monkeypatch.setattr(Lease, "_try_acquire", noting_the_wait)

    def apply_holding_the_lease() -> None:
        with StateStore.open(project.state) as store:
            lease = Lease(store, this_process("batchspec apply"), name=WRITER_LEASE)
            lease.acquire()
            taken.set()
            release.wait(10)
            lease.release()

    holder = threading.Thread(target=apply_holding_the_lease)
    holder.start()
    try:
        assert taken.wait(10)
        with pytest.raises(ProviderError, match="locked"):
            provider.create(inputs)
        assert project.job_dirs() == []
        blocked.clear()
        # Released once the create is seen waiting (not after a guessed delay).
        threading.Thread(target=lambda: blocked.wait(30) and release.set()).start()
        created = provider.create({**inputs, "lockTimeout": 60.0})
        assert blocked.is_set()
    finally:
        release.set()
        holder.join()
    assert project.job_dirs() == [created.id]


def test_create_reports_a_spec_file_that_vanished_in_one_line(project: Project) -> None:
    path = project.write(local_spec())
    inputs = project.props().to_inputs()
    path.unlink()
    with pytest.raises(ProviderError) as info:
        provider.create(inputs)
    assert "spec file" in str(info.value) and "missing" in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert project.job_dirs() == []


# --- read: drift --------------------------------------------------------------------


def test_read_shows_a_job_cancelled_outside(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOW_SECONDS", "0.2")
    project.inputs(rows=40)
    project.write(local_spec(model=SLOW))
    created = provider.create(project.props().to_inputs())
    wait_until(lambda: project.backend.get(created.id), lambda j: j.state is not JobState.QUEUED)
    project.backend.cancel(created.id)
    wait_until(lambda: project.backend.get(created.id), ended)
    assert created.outs is not None
    read = provider.read(created.id, created.outs)
    assert read.id == created.id
    assert read.outs is not None and read.outs["state"] == "CANCELLED"


def test_read_of_a_finished_job_deleted_outside_keeps_it_and_says_so(project: Project) -> None:
    project.write(local_spec())
    created = provider.create(project.props().to_inputs())
    wait_until(lambda: project.backend.get(created.id), ended)
    assert created.outs is not None
    first = provider.read(created.id, created.outs)  # a refresh saw it succeed
    assert first.outs is not None and first.outs["deletedOutside"] is False
    shutil.rmtree(project.home / "jobs" / created.id)
    read = provider.read(created.id, first.outs)
    assert read.id == created.id
    assert read.outs is not None
    assert read.outs["deletedOutside"] is True and read.outs["state"] == "SUCCEEDED"
    [record] = records(project)
    assert record.missing_since is not None


def test_read_of_an_unfinished_job_deleted_outside_reports_it_gone(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOW_SECONDS", "0.2")
    project.inputs(rows=40)
    project.write(local_spec(model=SLOW))
    created = provider.create(project.props().to_inputs())
    project.backend.cancel(created.id)
    wait_until(lambda: project.backend.get(created.id), ended)
    shutil.rmtree(project.home / "jobs" / created.id)
    # the last observation in state saw it running
    with StateStore.open(project.state) as store:
        last = RemoteJob("local", created.id, "scores", None, JobState.RUNNING)
        store.record_observed(records(project)[0].id, last, actor="test")
    assert created.outs is not None
    read = provider.read(created.id, created.outs)
    assert read.id == ""


# --- update -------------------------------------------------------------------------


def test_update_of_operational_inputs_keeps_the_job(project: Project) -> None:
    project.write(local_spec())
    olds_in = project.props().to_inputs()
    created = provider.create(olds_in)
    assert created.outs is not None
    news = {**olds_in, "lockTimeout": 42.0}
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs is not None
    assert updated.outs["lockTimeout"] == 42.0 and updated.outs["jobName"] == created.id
    assert project.job_dirs() == [created.id]


def test_update_refuses_a_home_where_the_job_is_not(project: Project, tmp_path: Path) -> None:
    project.write(local_spec())
    olds_in = project.props().to_inputs()
    created = provider.create(olds_in)
    assert created.outs is not None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(ProviderError, match="not on backend local"):
        provider.update(created.id, created.outs, {**olds_in, "home": str(elsewhere)})


# --- delete -------------------------------------------------------------------------


def test_delete_cancels_a_running_job(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOW_SECONDS", "0.2")
    project.inputs(rows=60)
    project.write(local_spec(model=SLOW))
    created = provider.create(project.props().to_inputs())
    wait_until(lambda: project.backend.get(created.id), running)
    assert created.outs is not None
    provider.delete(created.id, created.outs)
    job = wait_until(lambda: project.backend.get(created.id), ended)
    assert job.state is JobState.CANCELLED
    [record] = records(project)
    assert record.disposition is Disposition.REMOVED
    assert record.cancel_reason == "deleted from the Pulumi stack"


def test_delete_leaves_a_finished_job_and_a_new_create_runs_it_again(project: Project) -> None:
    project.write(local_spec())
    inputs = project.props().to_inputs()
    created = provider.create(inputs)
    wait_until(lambda: project.backend.get(created.id), ended)
    assert created.outs is not None
    provider.delete(created.id, created.outs)
    assert project.backend.get(created.id).state is JobState.SUCCEEDED
    assert (project.specs / "out" / "scores").is_dir()
    [record] = records(project)
    assert record.disposition is Disposition.FORGOTTEN

    again = provider.create(inputs)  # `pulumi destroy` then `pulumi up`: a new attempt
    assert again.id != created.id
    assert again.outs is not None and again.outs["attempt"] == 2
    assert sorted(project.job_dirs()) == sorted([created.id, again.id])


def test_replace_cancels_the_old_revision_then_runs_the_new(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `pulumi up` does when a spec changed: diff says replace (old first),
    delete retires the old job, create submits the new revision."""
    monkeypatch.setenv("SLOW_SECONDS", "0.2")
    project.inputs(rows=60)
    path = project.write(local_spec(model=SLOW))
    old_in = project.props().to_inputs()
    old = provider.create(old_in)
    assert old.outs is not None

    doc = local_spec(model=SLOW)
    doc["spec"]["resources"]["batchSize"] = 30
    path.write_text(json.dumps(doc))
    new_in = project.props().to_inputs()
    diff = provider.diff(old.id, old.outs, new_in)
    assert diff.replaces == ["fingerprint"] and diff.delete_before_replace

    provider.delete(old.id, old.outs)
    new = provider.create(new_in)
    assert new.id != old.id
    assert wait_until(lambda: project.backend.get(old.id), ended).state is JobState.CANCELLED
    assert (
        wait_until(lambda: project.backend.get(new.id), ended, timeout=60).state
        is JobState.SUCCEEDED
    )
    old_record, new_record = records(project)
    assert old_record.disposition is Disposition.REMOVED
    assert new_record.disposition is Disposition.CURRENT
    assert new_record.fingerprint == new_in["fingerprint"]


def test_delete_of_a_job_unknown_to_state_asks_the_backend(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOW_SECONDS", "0.2")
    project.inputs(rows=60)
    project.write(local_spec(model=SLOW))
    created = provider.create(project.props().to_inputs())
    assert created.outs is not None
    project.state.unlink()  # state lost (or another state file)
    for extra in ("-wal", "-shm"):
        Path(str(project.state) + extra).unlink(missing_ok=True)
    provider.delete(created.id, created.outs)
    job = wait_until(lambda: project.backend.get(created.id), ended)
    assert job.state is JobState.CANCELLED
