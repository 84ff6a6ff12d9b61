"""The provider against Vertex AI's REST double (the real client library over
HTTP): one create call per revision however often Pulumi and `batchspec
apply` ask, refresh shows a cancel made outside, delete cancels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("google.cloud.aiplatform")

from batchspec.backends.registry import BackendRegistry
from batchspec.model.enums import JobState
from batchspec.plan import load_desired
from batchspec.pulumi.provider import BatchPredictionJobProvider
from batchspec.reconcile.apply import ApplyContext, apply_desired
from batchspec.state.records import Disposition
from batchspec.state.store import StateStore
from batchspec.testing.cloud import CloudDouble
from tests.pulumi import cloud_backends
from tests.pulumi.conftest import Project

provider = BatchPredictionJobProvider()


def vertex_spec(name: str = "scores") -> dict[str, Any]:
    return {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": {"name": name, "labels": {"team": "tests"}},
        "spec": {
            "target": "vertex",
            "project": cloud_backends.PROJECT,
            "region": cloud_backends.REGION,
            "model": {
                "resource": f"projects/{cloud_backends.PROJECT}/locations/us-central1/models/7"
            },
            "input": {"format": "JSONL", "paths": ["gs://in-bucket/in/*"]},
            "output": {"path": "gs://out-bucket/out/"},
            "resources": {"machineType": "n1-standard-4", "replicaCount": 1},
        },
    }


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudDouble]:
    """The double (jobs stay where they are unless a test moves them), behind
    the provider through the backend registry's environment override."""
    server = CloudDouble(advance_on_read=False).start()
    monkeypatch.setenv(cloud_backends.URL_ENV, server.url)
    monkeypatch.setenv("BATCHSPEC_BACKEND_VERTEX", "tests.pulumi.cloud_backends:vertex")
    try:
        yield server
    finally:
        server.stop()
    assert server.errors == [], server.errors


def test_create_submits_once_and_adopts_after(project: Project, double: CloudDouble) -> None:
    project.write(vertex_spec())
    props = project.props()
    assert (props.project, props.region) == (cloud_backends.PROJECT, cloud_backends.REGION)
    first = provider.create(props.to_inputs())
    second = provider.create(props.to_inputs())
    assert first.id == second.id and first.id.startswith(
        f"projects/{cloud_backends.PROJECT}/locations/us-central1/batchPredictionJobs/"
    )
    assert second.outs is not None and second.outs["adopted"] is True
    assert len(double.create_calls("vertex")) == 1
    assert len(double.jobs_with(props.fingerprint[:63])) == 1


def test_batchspec_apply_and_pulumi_share_one_vertex_job(
    project: Project, double: CloudDouble
) -> None:
    spec = project.write(vertex_spec())
    with StateStore.open(project.state) as store:
        ctx = ApplyContext(store=store, provider=BackendRegistry(), actor="test-apply")
        result = apply_desired(ctx, load_desired([str(spec)]))
    assert result.ok and len(double.create_calls("vertex")) == 1
    created = provider.create(project.props().to_inputs())
    assert created.outs is not None and created.outs["adopted"] is True
    assert len(double.create_calls("vertex")) == 1


def test_refresh_shows_a_cancel_made_outside(project: Project, double: CloudDouble) -> None:
    project.write(vertex_spec())
    created = provider.create(project.props().to_inputs())
    double.cancel_from_outside(created.id)
    assert created.outs is not None
    read = provider.read(created.id, created.outs)
    assert read.outs is not None
    assert read.outs["state"] in (JobState.CANCELLING.value, JobState.CANCELLED.value)
    assert read.outs["state"] != created.outs["state"]


def test_delete_cancels_the_running_vertex_job(project: Project, double: CloudDouble) -> None:
    project.write(vertex_spec())
    created = provider.create(project.props().to_inputs())
    assert created.outs is not None
    provider.delete(created.id, created.outs)
    assert double.jobs[created.id].state in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")
    with StateStore.open(project.state) as store:
        [record] = store.all_jobs(name="scores")
    assert record.disposition is Disposition.REMOVED and record.cancel_requested_at is not None
