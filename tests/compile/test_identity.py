"""Labels and job ids let a backend find a job it already submitted."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchspec.compile import compile_spec, managed_labels, mlengine_job_id, request_fingerprint
from batchspec.compile.identity import body_labels, strip_identity, with_labels
from batchspec.model.enums import Target
from batchspec.validate.rules.names import label_text_problem
from tests.compile.conftest import make_spec
from tests.compile.strategies import job_names

JOB_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
FP = "0123456789abcdef" * 4


@given(job_names, st.integers(0, 99))
def test_mlengine_job_ids_follow_the_naming_rules(name: str, attempt: int) -> None:
    job_id = mlengine_job_id(name, FP, attempt)
    assert JOB_ID.match(job_id)
    assert len(job_id) <= 128
    assert FP[:12] in job_id
    assert job_id.startswith(name[:100])


def test_job_id_changes_with_revision_and_attempt_only() -> None:
    assert mlengine_job_id("census", FP) == "census_0123456789ab"
    assert mlengine_job_id("census", FP, 2) == "census_0123456789ab_r2"
    assert mlengine_job_id("census", "f" * 64) != mlengine_job_id("census", FP)
    long = "a" * 128
    assert len(mlengine_job_id(long, FP, 12)) == 128


@given(job_names)
def test_managed_labels_follow_every_services_label_rules(name: str) -> None:
    # 63 characters: ML Engine's limit, the strictest (Vertex AI allows 64).
    for key, value in managed_labels(name, FP).items():
        assert label_text_problem(key, key=True) is None, key
        assert label_text_problem(value, key=False) is None, value
        assert len(key) <= 63 and len(value) <= 63


@pytest.mark.parametrize("target", ["vertex", "mlengine", "genai"])
def test_fingerprint_is_over_the_body_without_batchspec_labels(target: str) -> None:
    doc = make_spec(target, labels={"team": "a"})
    job = compile_spec(doc, env={})
    labels = body_labels(job.target, job.body)
    assert labels["batchspec-fp"] == job.fingerprint[:63]
    assert labels["team"] == "a"
    assert dict(job.labels) == labels
    assert request_fingerprint(job.target, job.body, name=doc.name) == job.fingerprint
    # the same body with other batchspec labels has the same identity
    relabelled = with_labels(job.target, job.body, {**labels, "batchspec-fp": "x"})
    assert request_fingerprint(job.target, relabelled, name=doc.name) == job.fingerprint
    # a user label is part of the job: changing it is a new revision
    changed = with_labels(job.target, job.body, {**labels, "team": "b"})
    assert request_fingerprint(job.target, changed, name=doc.name) != job.fingerprint


def test_strip_identity_removes_empty_label_containers() -> None:
    job = compile_spec(make_spec("genai"), env={})
    core = strip_identity(Target.GENAI, job.body, name="scores")
    assert "http_options" not in core["config"]
    job = compile_spec(make_spec("vertex"), env={})
    assert "labels" not in strip_identity(Target.VERTEX, job.body, name="scores")


def test_same_config_under_two_names_are_two_jobs() -> None:
    a = compile_spec(make_spec("mlengine", name="job_a"), env={})
    b = compile_spec(make_spec("mlengine", name="job_b"), env={})
    assert a.fingerprint != b.fingerprint
    assert a.body["predictionInput"] == b.body["predictionInput"]
