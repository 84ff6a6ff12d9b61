"""Checks a reviewer wants on a batchspec stack, as plain functions.

Each takes resource properties as Pulumi reports them (camelCase keys, the
same in a policy pack, under mocks and in `pulumi stack export`) and returns
a list of problems in words; an empty list passes. The pulumi-policy pack in
`stacks/policy` wraps them (`batchspec.pulumi.policy_pack`), the tests call
them directly, and they import nothing from Pulumi.

* no public buckets: uniform bucket-level access, public access prevention
  enforced, no IAM grant to allUsers / allAuthenticatedUsers;
* labels present: buckets carry batchspec's management labels, jobs carry
  batchspec's labels and the keys the stack requires (`team`, ...);
* job outputs inside the stack's buckets: a `gs://` output must be in a
  bucket this stack creates (so lifecycle, access and labels apply to the
  results), a `bq://` output in the job's own project.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_JOB, LABEL_MANAGED_BY, MANAGED_BY_VALUE
from batchspec.pulumi.layout import LABEL_STACK, bucket_of

BUCKET_TYPE = "gcp:storage/bucket:Bucket"
JOB_TYPE = "pulumi-python:dynamic/batchspec:BatchPredictionJob"
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
# IAM resources that grant on a bucket, and the property holding the member(s).
BUCKET_GRANT_TYPES = {
    "gcp:storage/bucketIAMMember:BucketIAMMember": "member",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding": "members",
    "gcp:storage/bucketAccessControl:BucketAccessControl": "entity",
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl": "entity",
}
BUCKET_LABELS = (LABEL_MANAGED_BY, LABEL_STACK)
JOB_LABELS = (LABEL_MANAGED_BY, LABEL_JOB, LABEL_FINGERPRINT)
LOCAL_TARGETS = ("local", "ray")


def public_bucket_problems(props: Mapping[str, Any]) -> list[str]:
    """A bucket must never be readable by the world."""
    name = props.get("name") or "bucket"
    problems = []
    if props.get("uniformBucketLevelAccess") is not True:
        problems.append(
            f"{name}: uniform bucket-level access is off (object ACLs could make results public)"
        )
    if props.get("publicAccessPrevention") != "enforced":
        problems.append(f"{name}: public access prevention is not enforced")
    return problems


def public_grant_problems(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """An IAM grant or ACL on a bucket must not name allUsers / allAuthenticatedUsers."""
    key = BUCKET_GRANT_TYPES.get(resource_type)
    if key is None:
        return []
    value = props.get(key)
    members = value if isinstance(value, list) else [value]
    bad = [m for m in members if isinstance(m, str) and _public(m)]
    bucket = props.get("bucket") or "a bucket"
    return [f"{bucket}: {m} is granted {props.get('role') or 'access'}" for m in bad]


def _public(member: str) -> bool:
    return any(p.lower() in member.lower() for p in PUBLIC_MEMBERS)


def missing_labels(labels: Mapping[str, Any] | None, required: Iterable[str]) -> list[str]:
    """Required label keys that are absent or empty."""
    present = labels or {}
    return [key for key in required if not str(present.get(key) or "").strip()]


def bucket_label_problems(props: Mapping[str, Any]) -> list[str]:
    """A bucket the stack creates says who manages it and which stack owns it."""
    labels = props.get("labels") or {}
    problems = [
        f"{props.get('name')}: label {k!r} is missing"
        for k in missing_labels(labels, BUCKET_LABELS)
    ]
    if labels.get(LABEL_MANAGED_BY) not in (None, MANAGED_BY_VALUE):
        problems.append(f"{props.get('name')}: label managed-by is {labels[LABEL_MANAGED_BY]!r}")
    return problems


def job_label_problems(props: Mapping[str, Any], required: Sequence[str] = ("team",)) -> list[str]:
    """A job carries batchspec's own labels (exactly-once needs the fingerprint
    label) and the label keys the stack requires."""
    labels = props.get("labels") or {}
    name = props.get("name") or "job"
    problems = [
        f"{name}: batchspec label {k!r} is missing" for k in missing_labels(labels, JOB_LABELS)
    ]
    problems += [
        f"{name}: required label {k!r} is missing (add it to the spec's metadata.labels)"
        for k in missing_labels(labels, required)
    ]
    return problems


def output_problems(job: Mapping[str, Any], stack_buckets: Iterable[str]) -> list[str]:
    """A job's results land where the stack controls them."""
    if job.get("target") in LOCAL_TARGETS:
        return []  # results stay on the machine that runs the engine
    name = job.get("name") or "job"
    buckets = set(stack_buckets)
    problems = []
    for key in ("outputPath", "outputDirectory"):
        where = job.get(key)
        if not isinstance(where, str) or not where:
            continue
        if where.startswith("bq://"):
            project = where[len("bq://") :].split(".", 1)[0]
            if job.get("project") and project != job.get("project"):
                problems.append(
                    f"{name}: {key} {where} is outside the job's project {job.get('project')}"
                )
            continue
        bucket = bucket_of(where)
        if bucket is None:
            problems.append(f"{name}: {key} {where} is neither a gs:// nor a bq:// location")
        elif bucket not in buckets:
            problems.append(
                f"{name}: {key} {where} is outside the stack's buckets"
                f" ({', '.join(sorted(buckets)) or 'none'})"
            )
    return problems


def stack_problems(
    resources: Iterable[tuple[str, Mapping[str, Any]]], required_labels: Sequence[str] = ("team",)
) -> list[str]:
    """Every check over a whole stack: (resource type, properties) pairs in."""
    items = list(resources)
    buckets = [props.get("name") for typ, props in items if typ == BUCKET_TYPE]
    problems: list[str] = []
    for typ, props in items:
        if typ == BUCKET_TYPE:
            problems += public_bucket_problems(props) + bucket_label_problems(props)
        elif typ == JOB_TYPE:
            problems += job_label_problems(props, required_labels)
            problems += output_problems(props, [b for b in buckets if isinstance(b, str)])
        problems += public_grant_problems(typ, props)
    return problems
