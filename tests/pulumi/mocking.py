"""Run the stack program under Pulumi's own mocks and record what it creates.

`run_stack` calls `pulumi.runtime.set_mocks` first, sets the stack's config,
and only then runs `stacks/__main__.py` (as Pulumi would, by path), inside
`@pulumi.runtime.test` with `preview=False`, which waits for every resource
registration. Mocked resources echo their inputs as outputs, plus what the
service would compute (an account's email, a bucket's URL, a job's name).
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from ruamel.yaml import YAML

from tests.pulumi.conftest import REPO

STACKS = REPO / "stacks"
PROJECT_NUMBERS = {"acme-ml-prod": "111111111111", "acme-ml-legacy": "222222222222"}


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that remember every resource and every invoke."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.calls: list[pulumi.runtime.MockCallArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outs = dict(args.inputs)
        if args.typ == "gcp:serviceaccount/account:Account":
            email = f"{args.inputs['accountId']}@{args.inputs['project']}.iam.gserviceaccount.com"
            outs["email"] = email
            outs["name"] = f"projects/{args.inputs['project']}/serviceAccounts/{email}"
        elif args.typ == "gcp:storage/bucket:Bucket":
            outs["url"] = f"gs://{args.inputs['name']}"
        elif args.typ.startswith("pulumi-python:dynamic"):
            outs["jobName"] = f"mock-{args.inputs['name']}"
            outs["state"] = "QUEUED"
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.calls.append(args)
        if args.token == "gcp:organizations/getProject:getProject":
            project = args.args.get("projectId")
            return {"projectId": project, "number": PROJECT_NUMBERS.get(project, "999")}
        return {}


@dataclass
class StackRun:
    """What one program run registered."""

    resources: list[pulumi.runtime.MockResourceArgs]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, typ: str) -> dict[str, Mapping[str, Any]]:
        return {r.name: r.inputs for r in self.of(typ)}

    @property
    def gcp(self) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ.startswith("gcp:")]

    @property
    def jobs(self) -> dict[str, Mapping[str, Any]]:
        """Job resources by spec name."""
        return {r.inputs["name"]: r.inputs for r in self.of(JOB)}

    @property
    def buckets(self) -> dict[str, Mapping[str, Any]]:
        return {r.inputs["name"]: r.inputs for r in self.of(BUCKET)}

    def grants(self) -> set[tuple[str, str, str, str]]:
        """(scope, resource, role, member) of every IAM member resource."""
        out = set()
        for r in self.resources:
            i = r.inputs
            if r.typ == "gcp:storage/bucketIAMMember:BucketIAMMember":
                out.add(("bucket", i["bucket"], i["role"], i["member"]))
            elif r.typ == "gcp:projects/iAMMember:IAMMember":
                out.add(("project", i["project"], i["role"], i["member"]))
            elif r.typ == "gcp:bigquery/datasetIamMember:DatasetIamMember":
                out.add(("dataset", f"{i['project']}.{i['datasetId']}", i["role"], i["member"]))
            elif r.typ == "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember":
                out.add(("key", i["cryptoKeyId"], i["role"], i["member"]))
            elif r.typ == "gcp:serviceaccount/iAMMember:IAMMember":
                out.add(("account", i["serviceAccountId"], i["role"], i["member"]))
        return out

    def pairs(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for r in self.resources:
            yield r.typ, r.inputs


JOB = "pulumi-python:dynamic/batchspec:BatchPredictionJob"
BUCKET = "gcp:storage/bucket:Bucket"
ACCOUNT = "gcp:serviceaccount/account:Account"


def stack_config(stack: str) -> dict[str, str]:
    """A stack file's config as Pulumi hands it to a program (JSON for structures)."""
    data = YAML(typ="safe").load((STACKS / f"Pulumi.{stack}.yaml").read_text())
    return {k: flat(v) for k, v in (data.get("config") or {}).items()}


def flat(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def run_stack(stack: str, config: Mapping[str, str], program: Path | None = None) -> StackRun:
    """Run the program for `stack` with `config` under mocks (not a preview)."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="batchspec", stack=stack, preview=False)
    pulumi.runtime.set_all_config(dict(config))
    run = StackRun(mocks.resources)

    @pulumi.runtime.test
    def program_run() -> pulumi.Output[Any]:
        namespace = runpy.run_path(str(program or STACKS / "__main__.py"), run_name="__main__")
        built = namespace["stack"]
        outputs = {name: pulumi.Output.all(**job.outputs) for name, job in built.jobs.items()}

        def keep(values: dict[str, Any]) -> None:
            run.outputs.update(values)

        return pulumi.Output.all(**outputs).apply(keep)

    program_run()
    return run
