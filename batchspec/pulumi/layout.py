"""What a stack must create for its specs: plain data, no Pulumi.

For each compiled job, `job_layout` works out who the job runs as, which
bucket it writes to, what it reads, and the IAM bindings that identity
needs. `stack_layout` merges them: a bucket, a service account or a binding
that several specs share is one cloud object, so it is created once per
stack, keyed by its own name (never by the spec that happened to need it
first: then adding or removing a spec would move, and so replace, a bucket
full of results).

Who a job runs as:

* `local` / `ray`: the user running the engine; nothing to grant.
* `vertex` with `serviceAccount:` in the spec: that account. The stack
  creates it when it lives in the job's project (`manageServiceAccounts`),
  and grants it `roles/aiplatform.user` on the project.
* `vertex` without one, and `genai` (which cannot name one): Vertex AI's
  service agent, `service-<project number>@gcp-sa-aiplatform.iam...`.
* `mlengine`: ML Engine's service agent (`cloud-ml.google.com`).

Specs stay authoritative: names of buckets and accounts come from the spec,
never from the stack, so `pulumi preview`, `batchspec plan` and `batchspec
render` show the same request and the same fingerprint.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from batchspec.compile.paths import selected
from batchspec.io.bigquery import BigQueryRef, parse_uri
from batchspec.model.enums import Target
from batchspec.model.jobs import LABEL_MANAGED_BY, MANAGED_BY_VALUE, CompiledJob
from batchspec.pulumi.settings import StackSettings

LABEL_STACK = "batchspec-stack"
USER_ACCOUNT = re.compile(
    r"^([a-z][a-z0-9-]{4,28}[a-z0-9])@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$"
)
AGENT_DOMAINS = {
    "vertex": "gcp-sa-aiplatform.iam.gserviceaccount.com",
    "mlengine": "cloud-ml.google.com.iam.gserviceaccount.com",
}

ROLE_AIPLATFORM_USER = "roles/aiplatform.user"
ROLE_OBJECT_VIEWER = "roles/storage.objectViewer"
ROLE_OBJECT_CREATOR = "roles/storage.objectCreator"
ROLE_BQ_VIEWER = "roles/bigquery.dataViewer"
ROLE_BQ_EDITOR = "roles/bigquery.dataEditor"
ROLE_BQ_JOB_USER = "roles/bigquery.jobUser"
ROLE_KMS = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
ROLE_SA_USER = "roles/iam.serviceAccountUser"


class IdentityKind(StrEnum):
    """How a job's identity is known."""

    ACCOUNT = "account"  # a user-managed service account, email known
    AGENT = "agent"  # a Google service agent: email needs the project number


@dataclass(frozen=True)
class Identity:
    """Who a cloud job runs as."""

    kind: IdentityKind
    project: str
    email: str | None = None  # ACCOUNT only
    service: str | None = None  # AGENT only: "vertex" or "mlengine"
    managed: bool = False  # the stack creates the account

    @property
    def key(self) -> str:
        """A stable, name-safe key (`sa-batch-jobs-acme-ml-prod`, `agent-vertex-acme-ml-prod`)."""
        if self.kind is IdentityKind.ACCOUNT:
            assert self.email is not None
            local, _, domain = self.email.partition("@")
            return safe_name(f"sa-{local}-{domain.split('.')[0]}")
        return safe_name(f"agent-{self.service}-{self.project}")

    @property
    def account_id(self) -> str | None:
        """The account id of a user-managed account (`batch-jobs`)."""
        return self.email.partition("@")[0] if self.email else None

    def member(self, project_number: str | None = None) -> str:
        """The IAM member string (a service agent needs the project number)."""
        if self.kind is IdentityKind.ACCOUNT:
            return f"serviceAccount:{self.email}"
        if project_number is None:
            raise ValueError("a service agent's member needs the project number")
        domain = AGENT_DOMAINS[self.service or "vertex"]
        return f"serviceAccount:service-{project_number}@{domain}"


@dataclass(frozen=True)
class Binding:
    """One IAM grant: `role` on a resource to a member."""

    scope: str  # bucket | project | dataset | key | account
    resource: str  # bucket name, project id, `project.dataset`, key name, account email
    role: str
    identity: Identity | None = None  # the member is this identity...
    member: str | None = None  # ...or this literal member (deployers)

    @property
    def member_key(self) -> str:
        """Identifies the member without needing a project number."""
        return self.identity.key if self.identity is not None else str(self.member)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity of the grant (two specs needing it share one resource)."""
        return (self.scope, self.resource, self.role, self.member_key)

    @property
    def name(self) -> str:
        """A readable, unique, stable resource-name suffix."""
        digest = hashlib.sha256("|".join(self.key).encode()).hexdigest()[:8]
        role = self.role.rsplit("/", 1)[-1].replace(".", "-")
        return safe_name(f"{self.member_key}-{role}-{self.scope}-{digest}")


@dataclass(frozen=True)
class OutputBucket:
    """A bucket the stack creates for job outputs."""

    name: str
    project: str
    location: str
    jobs: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobLayout:
    """What one compiled job needs."""

    job: CompiledJob
    project: str | None
    region: str | None
    identity: Identity | None
    output_bucket: str | None
    output_bigquery: BigQueryRef | None
    input_buckets: tuple[str, ...]
    input_bigquery: BigQueryRef | None
    bindings: tuple[Binding, ...]
    run: bool

    @property
    def name(self) -> str:
        """The spec's metadata.name."""
        return self.job.name

    @property
    def output_path(self) -> str | None:
        """The declared output location (`gs://...`, `bq://...` or a local path)."""
        out = self.job.effective.output
        return out.path or out.bigquery


@dataclass
class StackLayout:
    """Everything a stack creates, each shared object once."""

    jobs: list[JobLayout] = field(default_factory=list)
    buckets: dict[str, OutputBucket] = field(default_factory=dict)
    identities: dict[str, Identity] = field(default_factory=dict)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)  # identity key -> grants
    deployer_bindings: list[Binding] = field(default_factory=list)

    @property
    def accounts(self) -> list[Identity]:
        """Service accounts the stack creates."""
        return [i for i in self.identities.values() if i.managed]


def safe_name(text: str) -> str:
    """Lowercase letters, digits and '-' only (resource names, label values)."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


def bucket_of(url: str | None) -> str | None:
    """`gs://bucket/path` -> `bucket`; anything else -> None."""
    if not url or not url.startswith("gs://"):
        return None
    name = url[len("gs://") :].split("/", 1)[0]
    return name or None


def job_layout(job: CompiledJob, settings: StackSettings) -> JobLayout:
    """Identity, buckets, BigQuery references and IAM grants of one job."""
    effective = job.effective
    project, region = effective.project, effective.region
    cloud = job.target in (Target.VERTEX, Target.GENAI, Target.MLENGINE)
    identity = _identity(job, project, settings) if cloud and project else None
    output = effective.output
    inputs = effective.input
    out_bucket = bucket_of(output.path) if cloud else None
    in_buckets = (
        tuple(sorted({b for b in map(bucket_of, inputs.paths or ()) if b})) if cloud else ()
    )
    out_bq = parse_uri(output.bigquery) if cloud and output.bigquery else None
    in_bq = parse_uri(inputs.bigquery) if cloud and inputs.bigquery else None
    bindings: list[Binding] = []
    if identity is not None and project is not None:
        bindings = _grants(
            identity,
            project=project,
            inputs=in_buckets,
            output=out_bucket,
            in_bq=in_bq,
            out_bq=out_bq,
        )
        key = effective.encryption_key_name
        if key:
            # Vertex AI's service agent encrypts the job's resources (CMEK).
            agent = Identity(IdentityKind.AGENT, project, service="vertex")
            bindings.append(Binding("key", key, ROLE_KMS, identity=agent))
    return JobLayout(
        job=job,
        project=project,
        region=region,
        identity=identity,
        output_bucket=out_bucket,
        output_bigquery=out_bq,
        input_buckets=in_buckets,
        input_bigquery=in_bq,
        bindings=tuple(bindings),
        # A recurring spec's runs belong to the controller (each tick exactly
        # once, across crashes): `pulumi up` deploys what they need, never a run.
        run=selected(job.name, settings.run) and not effective.recurring,
    )


def _identity(job: CompiledJob, project: str, settings: StackSettings) -> Identity:
    account = job.effective.service_account
    if job.target is Target.VERTEX and account:
        match = USER_ACCOUNT.match(account)
        managed = bool(settings.manage_service_accounts and match and match.group(2) == project)
        return Identity(
            IdentityKind.ACCOUNT,
            match.group(2) if match else project,
            email=account,
            managed=managed,
        )
    service = "mlengine" if job.target is Target.MLENGINE else "vertex"
    return Identity(IdentityKind.AGENT, project, service=service)


def _grants(
    identity: Identity,
    *,
    project: str,
    inputs: Iterable[str],
    output: str | None,
    in_bq: BigQueryRef | None,
    out_bq: BigQueryRef | None,
) -> list[Binding]:
    grants = [Binding("bucket", b, ROLE_OBJECT_VIEWER, identity=identity) for b in inputs]
    if output:
        grants.append(Binding("bucket", output, ROLE_OBJECT_CREATOR, identity=identity))
    if in_bq is not None and in_bq.dataset:
        grants.append(
            Binding(
                "dataset", f"{in_bq.project}.{in_bq.dataset}", ROLE_BQ_VIEWER, identity=identity
            )
        )
    if out_bq is not None:
        if out_bq.dataset:
            resource = f"{out_bq.project}.{out_bq.dataset}"
            grants.append(Binding("dataset", resource, ROLE_BQ_EDITOR, identity=identity))
        else:  # `bq://project`: the job creates a dataset there
            grants.append(Binding("project", out_bq.project, ROLE_BQ_EDITOR, identity=identity))
    if in_bq is not None or out_bq is not None:
        grants.append(Binding("project", project, ROLE_BQ_JOB_USER, identity=identity))
    if identity.kind is IdentityKind.ACCOUNT:
        # A user-managed account runs the job; service agents hold their own role.
        grants.append(Binding("project", project, ROLE_AIPLATFORM_USER, identity=identity))
    return grants


def stack_layout(jobs: Iterable[CompiledJob], settings: StackSettings) -> StackLayout:
    """Merge the layouts of every selected job; shared objects appear once."""
    layout = StackLayout()
    grants: dict[tuple[str, str, str, str], Binding] = {}
    for job in sorted(jobs, key=lambda j: j.name):
        one = job_layout(job, settings)
        layout.jobs.append(one)
        if one.output_bucket and one.project:
            _add_bucket(layout, one, settings)
        if one.identity is not None:
            layout.identities.setdefault(one.identity.key, one.identity)
        for grant in one.bindings:
            if grant.identity is not None:
                layout.identities.setdefault(grant.identity.key, grant.identity)
            grants.setdefault(grant.key, grant)
    for grant in grants.values():
        assert grant.identity is not None
        layout.bindings.setdefault(grant.identity.key, []).append(grant)
    for identity in layout.accounts:
        assert identity.email is not None
        for member in settings.deployers:
            layout.deployer_bindings.append(
                Binding("account", identity.email, ROLE_SA_USER, member=member)
            )
    return layout


def _add_bucket(layout: StackLayout, one: JobLayout, settings: StackSettings) -> None:
    assert one.output_bucket and one.project
    known = layout.buckets.get(one.output_bucket)
    if known is not None:
        layout.buckets[one.output_bucket] = OutputBucket(
            known.name, known.project, known.location, (*known.jobs, one.name)
        )
        return
    location = settings.bucket_location or (one.region or "US")
    layout.buckets[one.output_bucket] = OutputBucket(
        one.output_bucket, one.project, location.upper(), (one.name,)
    )


def bucket_labels(settings: StackSettings) -> dict[str, str]:
    """Labels on every bucket the stack creates."""
    return {
        **settings.labels,
        LABEL_MANAGED_BY: MANAGED_BY_VALUE,
        LABEL_STACK: settings.name_prefix,
    }
