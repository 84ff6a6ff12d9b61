"""Scheduled specs under Pulumi: the stack deploys what their runs need and
never submits a run (the controller runs each tick exactly once)."""

from __future__ import annotations

import pytest

from batchspec.errors import BatchspecError
from batchspec.pulumi.layout import job_layout
from batchspec.pulumi.loading import load_jobs
from batchspec.pulumi.props import load_job
from batchspec.pulumi.runs import ensure_run
from batchspec.testing.specs import spec_doc
from tests.pulumi.conftest import Project, local_spec

NIGHTLY = {"cron": "0 2 * * *", "timeZone": "Europe/Berlin"}


def test_a_scheduled_spec_is_never_run_by_the_stack(project: Project) -> None:
    project.write(local_spec("once"), "once.yaml")
    project.write(
        local_spec("nightly", schedule=NIGHTLY, output={"path": "out/{run.date}"}), "nightly.yaml"
    )
    settings = project.settings(run=["*"])
    layouts = {j.name: job_layout(j, settings) for j in load_jobs(settings).jobs}
    assert layouts["once"].run is True
    assert layouts["nightly"].run is False


def test_a_scheduled_cloud_spec_still_gets_its_bucket_and_grants(project: Project) -> None:
    doc = spec_doc(
        "nightly_scores", "vertex", output={"path": "gs://acme-out/{run.date}/"}, schedule=NIGHTLY
    )
    project.write(doc, "nightly.yaml")
    settings = project.settings(run=["*"], targets=["vertex"])
    [job] = load_jobs(settings).jobs
    layout = job_layout(job, settings)
    assert layout.run is False
    assert layout.output_bucket == "acme-out"
    assert any(b.resource == "acme-out" for b in layout.bindings)


def test_the_provider_refuses_to_submit_a_scheduled_run(project: Project) -> None:
    project.write(
        local_spec("nightly", schedule=NIGHTLY, output={"path": "out/{run.date}"}), "nightly.yaml"
    )
    props = project.props("nightly")
    with pytest.raises(BatchspecError, match=r"belong to the\s+controller"):
        ensure_run(load_job(props), props.where)
    assert project.job_dirs() == []
