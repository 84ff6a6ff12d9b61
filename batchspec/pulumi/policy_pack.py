"""The pulumi-policy wrappers around `batchspec.pulumi.policies`.

`stacks/policy/__main__.py` passes `build_policies()` to a PolicyPack (whose
constructor serves the pack and never returns, so the list is built here,
where tests can reach it). pulumi_policy is imported inside the function: a
machine without it can still import this module.

    pulumi preview --policy-pack stacks/policy
"""

from __future__ import annotations

from typing import Any

from batchspec.pulumi.policies import (
    BUCKET_GRANT_TYPES,
    BUCKET_TYPE,
    JOB_TYPE,
    bucket_label_problems,
    job_label_problems,
    output_problems,
    public_bucket_problems,
    public_grant_problems,
)

PACK_NAME = "batchspec"


def _required(args: Any) -> list[str]:
    config = args.get_config() or {}
    value = config.get("requiredLabels")
    return [str(v) for v in value] if isinstance(value, list) else ["team"]


def build_policies() -> list[Any]:
    """The pack's policies: no public buckets, labels present, outputs in the stack's buckets."""
    from pulumi_policy import (
        EnforcementLevel,
        PolicyConfigSchema,
        ResourceValidationPolicy,
        StackValidationPolicy,
    )

    def no_public_buckets(args: Any, report: Any) -> None:
        if args.resource_type == BUCKET_TYPE:
            for problem in public_bucket_problems(args.props):
                report(problem, None)
        for problem in public_grant_problems(args.resource_type, args.props):
            report(problem, None)

    def labels_present(args: Any, report: Any) -> None:
        if args.resource_type == BUCKET_TYPE:
            problems = bucket_label_problems(args.props)
        elif args.resource_type == JOB_TYPE:
            problems = job_label_problems(args.props, _required(args))
        else:
            return
        for problem in problems:
            report(problem, None)

    def outputs_in_stack_buckets(args: Any, report: Any) -> None:
        buckets = [r.props.get("name") for r in args.resources if r.resource_type == BUCKET_TYPE]
        for resource in args.resources:
            if resource.resource_type != JOB_TYPE:
                continue
            for problem in output_problems(resource.props, [b for b in buckets if b]):
                report(problem, resource.urn)

    required_schema = PolicyConfigSchema(
        properties={"requiredLabels": {"type": "array", "items": {"type": "string"}}}
    )
    return [
        ResourceValidationPolicy(
            name="batchspec-no-public-buckets",
            description="Output buckets keep uniform access and enforced public access"
            " prevention; nothing grants allUsers or allAuthenticatedUsers.",
            validate=no_public_buckets,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name="batchspec-labels-present",
            description="Buckets carry managed-by and batchspec-stack; jobs carry batchspec's"
            " labels and the required keys (config requiredLabels, default team).",
            validate=labels_present,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=required_schema,
        ),
        StackValidationPolicy(
            name="batchspec-outputs-in-stack-buckets",
            description="Each cloud job writes into a bucket the stack creates (gs://) or into"
            " its own project (bq://).",
            validate=outputs_in_stack_buckets,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
    ]


__all__ = ["BUCKET_GRANT_TYPES", "PACK_NAME", "build_policies"]
