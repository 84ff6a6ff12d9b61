"""The Pulumi components: a stack of specs, each spec's job, each job identity.

    batchspec:index:Stack            one per stack (named by namePrefix)
    ├── gcp:storage/bucket:Bucket      one per output bucket the specs write to
    ├── batchspec:index:JobIdentity    one per identity jobs run as
    │   ├── gcp:serviceaccount/account:Account   when the stack manages it
    │   └── IAM members                reads, writes, Vertex, BigQuery, KMS
    └── batchspec:index:BatchJob       one per spec
        └── BatchPredictionJob         the run, where batchspec:run selects it

Buckets, accounts and grants are shared by every spec that names them, so
they hang off the stack (or the identity) under names derived from
themselves; a spec's own component holds its job and its outputs. Layout
decisions live in `batchspec.pulumi.layout` (plain data, tested without
Pulumi); this module only turns them into resources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp

from batchspec.pulumi.layout import (
    Binding,
    Identity,
    IdentityKind,
    JobLayout,
    OutputBucket,
    StackLayout,
    bucket_labels,
    safe_name,
    stack_layout,
)
from batchspec.pulumi.loading import LoadedJobs, load_jobs
from batchspec.pulumi.props import props_for
from batchspec.pulumi.provider import BatchPredictionJob
from batchspec.pulumi.settings import StackSettings

STACK_TYPE = "batchspec:index:Stack"
IDENTITY_TYPE = "batchspec:index:JobIdentity"
JOB_TYPE = "batchspec:index:BatchJob"


class JobIdentity(pulumi.ComponentResource):
    """Who jobs run as: a service account (created when the stack manages it) or
    a Google service agent, and every IAM grant it needs."""

    member: pulumi.Output[str]
    email: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        identity: Identity,
        grants: Sequence[Binding],
        *,
        settings: StackSettings,
        buckets: Mapping[str, gcp.storage.Bucket],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(IDENTITY_TYPE, name, None, opts)
        self.resource_name = name
        self.identity = identity
        child = pulumi.ResourceOptions(parent=self)
        self.account: gcp.serviceaccount.Account | None = None
        if identity.kind is IdentityKind.ACCOUNT:
            assert identity.email is not None
            if identity.managed:
                self.account = gcp.serviceaccount.Account(
                    f"{name}-account",
                    account_id=identity.account_id,
                    project=identity.project,
                    display_name=f"batchspec jobs ({settings.name_prefix})",
                    description="Runs batch prediction jobs declared in batchspec specs",
                    opts=pulumi.ResourceOptions(parent=self, protect=settings.protect),
                )
                self.email = self.account.email
            else:
                self.email = pulumi.Output.from_input(identity.email)
        else:
            number = gcp.organizations.get_project_output(
                project_id=identity.project, opts=pulumi.InvokeOutputOptions(parent=self)
            ).number
            self.email = number.apply(lambda n: identity.member(str(n)).split(":", 1)[1])
        self.member = self.email.apply(lambda e: f"serviceAccount:{e}")
        self.grants: list[pulumi.CustomResource] = [
            _grant(
                f"{name}-{g.name.removeprefix(identity.key + '-')}", g, self.member, buckets, child
            )
            for g in grants
        ]
        self.register_outputs({"email": self.email, "member": self.member})


def _grant(
    name: str,
    grant: Binding,
    member: pulumi.Input[str],
    buckets: Mapping[str, gcp.storage.Bucket],
    opts: pulumi.ResourceOptions,
) -> pulumi.CustomResource:
    """One non-authoritative IAM member resource for `grant`."""
    if grant.member is not None:
        member = grant.member
    if grant.scope == "bucket":
        bucket = buckets.get(grant.resource)
        return gcp.storage.BucketIAMMember(
            name,
            bucket=bucket.name if bucket is not None else grant.resource,
            role=grant.role,
            member=member,
            opts=opts,
        )
    if grant.scope == "project":
        return gcp.projects.IAMMember(
            name, project=grant.resource, role=grant.role, member=member, opts=opts
        )
    if grant.scope == "dataset":
        project, _, dataset = grant.resource.partition(".")
        return gcp.bigquery.DatasetIamMember(
            name, project=project, dataset_id=dataset, role=grant.role, member=member, opts=opts
        )
    if grant.scope == "key":
        return gcp.kms.CryptoKeyIAMMember(
            name, crypto_key_id=grant.resource, role=grant.role, member=member, opts=opts
        )
    raise ValueError(f"unknown grant scope {grant.scope!r}")


class BatchJob(pulumi.ComponentResource):
    """One spec: its job run (when the stack runs it) and where its results go."""

    def __init__(
        self,
        name: str,
        layout: JobLayout,
        *,
        settings: StackSettings,
        identity: JobIdentity | None,
        bucket: gcp.storage.Bucket | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(JOB_TYPE, name, None, opts)
        self.layout = layout
        job = layout.job
        self.props = props_for(layout, settings)
        needs: list[pulumi.Resource] = []
        if identity is not None:
            needs.extend(identity.grants)
            if identity.account is not None:
                needs.append(identity.account)
        if bucket is not None:
            needs.append(bucket)
        self.run: BatchPredictionJob | None = None
        if layout.run:
            self.run = BatchPredictionJob(
                name,
                self.props,
                opts=pulumi.ResourceOptions(parent=self, depends_on=needs),
            )
        none: pulumi.Output[Any] = pulumi.Output.from_input(None)
        self.outputs: dict[str, Any] = {
            "fingerprint": job.fingerprint,
            "target": job.target.value,
            "runByPulumi": layout.run,
            "recurring": job.effective.recurring,
            "jobName": self.run.jobName if self.run else none,
            "state": self.run.state if self.run else none,
            "outputDirectory": self.run.outputDirectory if self.run else none,
            "outputPath": layout.output_path,
            "serviceAccount": identity.email if identity is not None else none,
            "bucket": bucket.name if bucket is not None else none,
        }
        self.register_outputs(self.outputs)


class BatchspecStack(pulumi.ComponentResource):
    """Everything one stack's specs need, and their runs."""

    def __init__(
        self,
        settings: StackSettings,
        *,
        loaded: LoadedJobs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(STACK_TYPE, settings.name_prefix, None, opts)
        self.settings = settings
        self.loaded = loaded or load_jobs(settings)
        self.layout: StackLayout = stack_layout(self.loaded.jobs, settings)
        prefix = settings.name_prefix
        self.buckets = {
            name: self._bucket(f"{prefix}-{safe_name(name)}", spec)
            for name, spec in sorted(self.layout.buckets.items())
        }
        self.identities: dict[str, JobIdentity] = {
            key: JobIdentity(
                f"{prefix}-{key}",
                identity,
                self.layout.bindings.get(key, []),
                settings=settings,
                buckets=self.buckets,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for key, identity in sorted(self.layout.identities.items())
        }
        self.deployer_grants = [self._deployer_grant(g) for g in self.layout.deployer_bindings]
        self.jobs: dict[str, BatchJob] = {}
        for one in self.layout.jobs:
            identity = self.identities.get(one.identity.key) if one.identity else None
            self.jobs[one.name] = BatchJob(
                f"{prefix}-{safe_name(one.name)}",
                one,
                settings=settings,
                identity=identity,
                bucket=self.buckets.get(one.output_bucket or ""),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "jobs": {name: job.outputs for name, job in self.jobs.items()},
                "buckets": {name: b.url for name, b in self.buckets.items()},
            }
        )

    def _bucket(self, resource_name: str, spec: OutputBucket) -> gcp.storage.Bucket:
        """An output bucket: private for good, uniform access, outputs expire."""
        settings = self.settings
        rules: list[gcp.storage.BucketLifecycleRuleArgs] = [
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(
                    type="AbortIncompleteMultipartUpload"
                ),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=1),
            )
        ]
        if settings.output_retention_days:
            rules.append(
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                        age=settings.output_retention_days
                    ),
                )
            )
        return gcp.storage.Bucket(
            resource_name,
            name=spec.name,
            project=spec.project,
            location=spec.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=settings.force_destroy,
            lifecycle_rules=rules,
            labels=bucket_labels(settings),
            opts=pulumi.ResourceOptions(parent=self, protect=settings.protect),
        )

    def _deployer_grant(self, grant: Binding) -> gcp.serviceaccount.IAMMember:
        """Let a deployer (CI, a person) run jobs as an account the stack manages."""
        owner = next(
            i
            for i in self.identities.values()
            if i.account is not None and i.identity.email == grant.resource
        )
        assert owner.account is not None and grant.member is not None
        return gcp.serviceaccount.IAMMember(
            f"{owner.resource_name}-user-{safe_name(grant.member)}",
            service_account_id=owner.account.name,
            role=grant.role,
            member=grant.member,
            opts=pulumi.ResourceOptions(parent=owner),
        )
