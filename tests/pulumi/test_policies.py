"""The policy checks as plain functions, and the pulumi-policy pack around them."""

from __future__ import annotations

from typing import Any

import pytest

from batchspec.pulumi.policies import (
    BUCKET_TYPE,
    JOB_TYPE,
    bucket_label_problems,
    job_label_problems,
    missing_labels,
    output_problems,
    public_bucket_problems,
    public_grant_problems,
    stack_problems,
)

GOOD_BUCKET = {
    "name": "acme-out",
    "uniformBucketLevelAccess": True,
    "publicAccessPrevention": "enforced",
    "labels": {"managed-by": "batchspec", "batchspec-stack": "prod"},
}
JOB_LABELS = {"managed-by": "batchspec", "batchspec-job": "scores", "batchspec-fp": "ab" * 31}
GOOD_JOB = {
    "name": "scores",
    "target": "vertex",
    "project": "acme",
    "labels": {**JOB_LABELS, "team": "search"},
    "outputPath": "gs://acme-out/scores/",
    "outputDirectory": "gs://acme-out/scores/prediction-m-2024_01_01T00_00_00_000Z",
}


def test_a_private_bucket_passes() -> None:
    assert public_bucket_problems(GOOD_BUCKET) == []
    assert bucket_label_problems(GOOD_BUCKET) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"uniformBucketLevelAccess": False}, "uniform bucket-level access is off"),
        ({"uniformBucketLevelAccess": None}, "uniform bucket-level access is off"),
        ({"publicAccessPrevention": "inherited"}, "public access prevention is not enforced"),
    ],
)
def test_public_buckets_are_reported(change: dict[str, Any], words: str) -> None:
    [problem] = public_bucket_problems({**GOOD_BUCKET, **change})
    assert words in problem and problem.startswith("acme-out:")


@pytest.mark.parametrize(
    ("typ", "props"),
    [
        ("gcp:storage/bucketIAMMember:BucketIAMMember", {"member": "allUsers"}),
        (
            "gcp:storage/bucketIAMBinding:BucketIAMBinding",
            {"members": ["user:a@b.c", "allAuthenticatedUsers"]},
        ),
        ("gcp:storage/bucketAccessControl:BucketAccessControl", {"entity": "allUsers"}),
    ],
)
def test_grants_to_the_world_are_reported(typ: str, props: dict[str, Any]) -> None:
    [problem] = public_grant_problems(
        typ, {"bucket": "acme-out", "role": "roles/storage.objectViewer", **props}
    )
    assert problem.startswith("acme-out: all")


def test_grants_to_identities_pass() -> None:
    props = {"bucket": "b", "member": "serviceAccount:x@p.iam.gserviceaccount.com", "role": "r"}
    assert public_grant_problems("gcp:storage/bucketIAMMember:BucketIAMMember", props) == []
    assert public_grant_problems("gcp:projects/iAMMember:IAMMember", {"member": "allUsers"}) == []


def test_missing_labels_counts_empty_values_as_missing() -> None:
    assert missing_labels({"team": "", "env": "x"}, ["team", "env", "owner"]) == ["team", "owner"]
    assert missing_labels(None, ["team"]) == ["team"]


def test_bucket_labels_say_who_manages_them() -> None:
    problems = bucket_label_problems({**GOOD_BUCKET, "labels": {"managed-by": "terraform"}})
    assert problems == [
        "acme-out: label 'batchspec-stack' is missing",
        "acme-out: label managed-by is 'terraform'",
    ]


def test_jobs_need_batchspec_labels_and_the_required_keys() -> None:
    assert job_label_problems(GOOD_JOB) == []
    problems = job_label_problems({**GOOD_JOB, "labels": {"team": "x"}}, ["team", "cost-center"])
    assert problems[:3] == [
        "scores: batchspec label 'managed-by' is missing",
        "scores: batchspec label 'batchspec-job' is missing",
        "scores: batchspec label 'batchspec-fp' is missing",
    ]
    assert "required label 'cost-center' is missing" in problems[3]


def test_outputs_must_land_in_the_stacks_buckets() -> None:
    assert output_problems(GOOD_JOB, ["acme-out"]) == []
    problems = output_problems(GOOD_JOB, ["other"])
    assert len(problems) == 2
    assert "outputPath gs://acme-out/scores/ is outside the stack's buckets (other)" in problems[0]


def test_bigquery_outputs_must_stay_in_the_jobs_project() -> None:
    job = {**GOOD_JOB, "outputPath": "bq://acme.scores", "outputDirectory": None}
    assert output_problems(job, []) == []
    [problem] = output_problems({**job, "outputPath": "bq://elsewhere.scores"}, [])
    assert "outside the job's project acme" in problem


def test_local_jobs_write_where_the_engine_runs() -> None:
    job = {**GOOD_JOB, "target": "local", "outputPath": "/tmp/out", "outputDirectory": "/tmp/out"}
    assert output_problems(job, []) == []


def test_other_schemes_are_reported() -> None:
    [problem] = output_problems({**GOOD_JOB, "outputPath": "s3://x/y", "outputDirectory": None}, [])
    assert "neither a gs:// nor a bq://" in problem


def test_stack_problems_combines_every_check() -> None:
    resources = [
        (BUCKET_TYPE, GOOD_BUCKET),
        (JOB_TYPE, GOOD_JOB),
        (
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            {"bucket": "acme-out", "member": "allUsers", "role": "r"},
        ),
        (
            JOB_TYPE,
            {**GOOD_JOB, "name": "other", "outputPath": "gs://nope/x", "outputDirectory": None},
        ),
    ]
    problems = stack_problems(resources)
    assert problems == [
        "acme-out: allUsers is granted r",
        "other: outputPath gs://nope/x is outside the stack's buckets (acme-out)",
    ]


# --- the pulumi-policy pack --------------------------------------------------------


class Resource:
    def __init__(self, typ: str, props: dict[str, Any], urn: str = "urn:x") -> None:
        self.resource_type = typ
        self.props = props
        self.urn = urn


class Args(Resource):
    def __init__(
        self, typ: str, props: dict[str, Any], config: dict[str, Any] | None = None
    ) -> None:
        super().__init__(typ, props)
        self.config = config or {}
        self.resources: list[Resource] = []

    def get_config(self) -> dict[str, Any]:
        return self.config


def violations(policy: Any, args: Any) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


def test_the_pack_wraps_the_same_checks() -> None:
    pytest.importorskip("pulumi_policy")
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    from batchspec.pulumi.policy_pack import build_policies

    public, labels, outputs = build_policies()
    assert isinstance(public, ResourceValidationPolicy) and isinstance(
        labels, ResourceValidationPolicy
    )
    assert isinstance(outputs, StackValidationPolicy)
    assert {p.enforcement_level for p in (public, labels, outputs)} == {EnforcementLevel.MANDATORY}

    leaky = {**GOOD_BUCKET, "publicAccessPrevention": "inherited"}
    assert violations(public, Args(BUCKET_TYPE, GOOD_BUCKET)) == []
    assert [m for m, _ in violations(public, Args(BUCKET_TYPE, leaky))] == [
        "acme-out: public access prevention is not enforced"
    ]
    grant = Args(
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        {"bucket": "b", "member": "allUsers", "role": "r"},
    )
    assert len(violations(public, grant)) == 1

    job = Args(JOB_TYPE, GOOD_JOB, config={"requiredLabels": ["team", "owner"]})
    assert [m for m, _ in violations(labels, job)] == [
        "scores: required label 'owner' is missing (add it to the spec's metadata.labels)"
    ]
    assert violations(labels, Args(JOB_TYPE, GOOD_JOB)) == []  # default: team

    stack = Args("", {})
    stack.resources = [
        Resource(BUCKET_TYPE, GOOD_BUCKET),
        Resource(
            JOB_TYPE, {**GOOD_JOB, "outputPath": "gs://nope/x", "outputDirectory": None}, "urn:job"
        ),
    ]
    [(message, urn)] = violations(outputs, stack)
    assert urn == "urn:job" and "outside the stack's buckets" in message


def test_the_pack_program_builds_a_pack_from_those_policies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("pulumi_policy")
    import runpy

    import pulumi_policy

    from tests.pulumi.conftest import REPO

    made: dict[str, Any] = {}
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: made.update(kw))
    runpy.run_path(str(REPO / "stacks" / "policy" / "__main__.py"), run_name="__main__")
    assert made["name"] == "batchspec"
    assert [p.name for p in made["policies"]] == [
        "batchspec-no-public-buckets",
        "batchspec-labels-present",
        "batchspec-outputs-in-stack-buckets",
    ]
