"""The stack program under Pulumi's mocks: for every example spec and for the
dev and prod stack files, the right resources, names, IAM members and job
inputs. The program runs as Pulumi runs it (stacks/__main__.py by path),
after `set_mocks`, with `preview=False`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from batchspec.pulumi.policies import stack_problems
from tests.pulumi.conftest import REPO, Project, local_spec
from tests.pulumi.mocking import ACCOUNT, BUCKET, JOB, run_stack, stack_config

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

GOLDEN = REPO / "tests" / "golden"
SPECS = REPO / "specs"
STATE = str(REPO / ".batchspec" / "state.db")
HOME = str(REPO / ".batchspec")

SA = "serviceAccount:batch-jobs@acme-ml-prod.iam.gserviceaccount.com"
VERTEX_AGENT = "serviceAccount:service-111111111111@gcp-sa-aiplatform.iam.gserviceaccount.com"
ML_AGENT = "serviceAccount:service-222222222222@cloud-ml.google.com.iam.gserviceaccount.com"
DEPLOYER = "serviceAccount:ci-deployer@acme-ml-prod.iam.gserviceaccount.com"
KEY = "projects/acme-ml-prod/locations/europe-west4/keyRings/ml/cryptoKeys/batch"
VIEWER, CREATOR = "roles/storage.objectViewer", "roles/storage.objectCreator"

# What each example spec needs, whichever stack deploys it.
SPEC_EXPECT: dict[str, dict[str, Any]] = {
    "iris_species": {
        "file": "iris_local.yaml",
        "target": "local",
        "golden": "iris_local/iris_species.local.json",
        "buckets": {},
        "accounts": set(),
        "grants": set(),
    },
    "review_sentiment": {
        "file": "review_sentiment.yaml",
        "target": "local",
        "golden": "review_sentiment/review_sentiment.local.json",
        "buckets": {},
        "accounts": set(),
        "grants": set(),
    },
    "review_sentiment_nightly": {
        "file": "review_sentiment_nightly.yaml",
        "target": "local",
        "golden": "review_sentiment_nightly/review_sentiment_nightly.local.json",
        "buckets": {},
        "accounts": set(),
        "grants": set(),
        "recurring": True,  # its runs belong to the controller, never to `pulumi up`
    },
    "catalogue_embeddings": {
        "file": "catalogue_vertex.yaml",
        "target": "vertex",
        "golden": "catalogue_vertex/catalogue_embeddings.vertex.json",
        "buckets": {"acme-catalogue": "EUROPE-WEST4"},
        "accounts": {("batch-jobs", "acme-ml-prod")},
        "grants": {
            ("bucket", "acme-catalogue", VIEWER, SA),
            ("bucket", "acme-catalogue", CREATOR, SA),
            ("project", "acme-ml-prod", "roles/aiplatform.user", SA),
            ("key", KEY, "roles/cloudkms.cryptoKeyEncrypterDecrypter", VERTEX_AGENT),
        },
        "member": SA,
    },
    "churn_weekly_rescore": {
        "file": "catalogue_vertex.yaml",
        "target": "vertex",
        "golden": "catalogue_vertex/churn_weekly_rescore.vertex.json",
        "buckets": {},
        "accounts": set(),
        "grants": {
            ("dataset", "acme-ml-prod.crm", "roles/bigquery.dataViewer", VERTEX_AGENT),
            ("dataset", "acme-ml-prod.churn_scores", "roles/bigquery.dataEditor", VERTEX_AGENT),
            ("project", "acme-ml-prod", "roles/bigquery.jobUser", VERTEX_AGENT),
        },
        "member": VERTEX_AGENT,
    },
    "review_sentiment_claude": {
        "file": "review_sentiment_genai.yaml",
        "target": "genai",
        "golden": "review_sentiment_genai/review_sentiment_claude.genai.json",
        "buckets": {"acme-reviews": "US-EAST5"},
        "accounts": set(),
        "grants": {
            ("bucket", "acme-reviews", VIEWER, VERTEX_AGENT),
            ("bucket", "acme-reviews", CREATOR, VERTEX_AGENT),
        },
        "member": VERTEX_AGENT,
    },
    "census_batch_predict": {
        "file": "census_mlengine.yaml",
        "target": "mlengine",
        "golden": "census_mlengine/census_batch_predict.mlengine.json",
        "buckets": {"acme-census": "US-CENTRAL1"},
        "accounts": set(),
        "grants": {
            ("bucket", "acme-census", VIEWER, ML_AGENT),
            ("bucket", "acme-census", CREATOR, ML_AGENT),
        },
        "member": ML_AGENT,
        # the migrated gcloud job carries no labels: the policy pack would stop it
        "policy": ["census_batch_predict: required label 'team' is missing"],
    },
}
STACK_EXPECT = {
    "dev": {"prefix": "dev", "retention": 7, "labels": {}, "deployers": False},
    "prod": {"prefix": "prod", "retention": 90, "labels": {"env": "prod"}, "deployers": True},
}


def golden_fingerprint(name: str) -> str:
    data = json.loads((GOLDEN / SPEC_EXPECT[name]["golden"]).read_text())
    return str(data["fingerprint"])


# --- the stack files as they are --------------------------------------------------


def test_dev_stack_runs_the_local_specs_and_creates_nothing_in_the_cloud() -> None:
    run = run_stack("dev", stack_config("dev"))
    assert run.gcp == []
    assert sorted(run.jobs) == ["iris_species", "review_sentiment"]
    assert sorted(r.name for r in run.of(JOB)) == ["dev-iris-species", "dev-review-sentiment"]
    for name, job in run.jobs.items():
        assert job["fingerprint"] == golden_fingerprint(name)  # what `batchspec render` shows
        assert job["statePath"] == STATE  # the file `batchspec apply` uses from the repo root
        assert job["home"] == HOME
        assert job["specFile"] == str(SPECS / SPEC_EXPECT[name]["file"])
        assert job["target"] == "local" and job["stack"] == "dev"
        assert job.get("project") is None and job.get("region") is None
    assert run.outputs["iris_species"]["jobName"] == "mock-iris_species"
    assert run.outputs["iris_species"]["runByPulumi"] is True
    nightly = run.outputs["review_sentiment_nightly"]  # scheduled: deployed, never run
    assert nightly["runByPulumi"] is False and nightly["recurring"] is True
    assert stack_problems(run.pairs()) == []


def test_prod_stack_creates_buckets_accounts_grants_and_the_chosen_runs() -> None:
    run = run_stack("prod", stack_config("prod"))
    cloud = ["catalogue_embeddings", "churn_weekly_rescore", "review_sentiment_claude"]
    assert sorted(run.outputs) == cloud
    # runs: only those batchspec:run names; churn is left to `batchspec reconcile`
    assert sorted(run.jobs) == ["catalogue_embeddings", "review_sentiment_claude"]
    assert run.outputs["churn_weekly_rescore"]["runByPulumi"] is False
    assert run.outputs["churn_weekly_rescore"]["jobName"] is None
    assert set(run.buckets) == {"acme-catalogue", "acme-reviews"}
    assert {(a["accountId"], a["project"]) for a in run.named(ACCOUNT).values()} == {
        ("batch-jobs", "acme-ml-prod")
    }
    expected = set().union(*(SPEC_EXPECT[n]["grants"] for n in cloud))
    account = (
        "projects/acme-ml-prod/serviceAccounts/batch-jobs@acme-ml-prod.iam.gserviceaccount.com"
    )
    expected.add(("account", account, "roles/iam.serviceAccountUser", DEPLOYER))
    assert run.grants() == expected
    for name, job in run.jobs.items():
        assert job["fingerprint"] == golden_fingerprint(name)
        assert job.get("home") is None and job["statePath"] == STATE
    assert run.jobs["catalogue_embeddings"]["region"] == "europe-west4"
    assert run.jobs["review_sentiment_claude"]["region"] == "us-east5"
    assert run.outputs["catalogue_embeddings"]["serviceAccount"] == SA.split(":", 1)[1]
    assert run.outputs["review_sentiment_claude"]["serviceAccount"] == VERTEX_AGENT.split(":", 1)[1]
    assert run.outputs["catalogue_embeddings"]["bucket"] == "acme-catalogue"
    assert stack_problems(run.pairs()) == []


def test_shared_identity_and_grants_are_created_once() -> None:
    """churn and claude both run as the Vertex service agent: one identity
    component, one getProject invoke result, no duplicate IAM member."""
    run = run_stack("prod", stack_config("prod"))
    identities = [r.name for r in run.of("batchspec:index:JobIdentity")]
    assert sorted(identities) == [
        "prod-agent-vertex-acme-ml-prod",
        "prod-sa-batch-jobs-acme-ml-prod",
    ]
    members = [
        (r.inputs.get("bucket"), r.inputs["role"], r.inputs["member"])
        for r in run.resources
        if "member" in r.inputs
    ]
    assert len(members) == len(set(members))


# --- every example spec under dev and prod -----------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("name", sorted(SPEC_EXPECT))
def test_each_example_spec_under_each_stack(name: str, stack: str) -> None:
    """The stack file's settings, narrowed to this one spec (and widened to its
    target): what the spec gets when that stack deploys it."""
    expect, conf = SPEC_EXPECT[name], STACK_EXPECT[stack]
    config = {
        **stack_config(stack),
        "batchspec:select": json.dumps([name]),
        "batchspec:targets": json.dumps([expect["target"]]),
        "batchspec:run": json.dumps(["*"]),
    }
    run = run_stack(stack, config)
    prefix = conf["prefix"]

    if expect.get("recurring"):  # the controller's runs: no job resource, ever
        assert run.of(JOB) == [] and run.outputs[name]["runByPulumi"] is False
        return
    # the job: one resource, named after the stack and the spec, with its revision
    [job_resource] = run.of(JOB)
    assert job_resource.name == f"{prefix}-{name.replace('_', '-')}"
    job = job_resource.inputs
    assert job["name"] == name and job["target"] == expect["target"]
    assert job["fingerprint"] == golden_fingerprint(name)
    assert job["specFile"] == str(SPECS / expect["file"])
    assert job["labels"]["batchspec-fp"] == golden_fingerprint(name)[:63]
    assert job["labels"]["managed-by"] == "batchspec"
    assert job["stack"] == prefix
    assert (job.get("home") == HOME) is (expect["target"] == "local")

    # buckets: the spec's output bucket, private, labelled, expiring
    assert {b: v["location"] for b, v in run.buckets.items()} == expect["buckets"]
    for bucket, props in run.buckets.items():
        assert props["uniformBucketLevelAccess"] is True
        assert props["publicAccessPrevention"] == "enforced"
        assert props["labels"] == {
            **conf["labels"],
            "managed-by": "batchspec",
            "batchspec-stack": prefix,
        }
        rules = {r["action"]["type"]: r["condition"]["age"] for r in props["lifecycleRules"]}
        assert rules == {"AbortIncompleteMultipartUpload": 1, "Delete": conf["retention"]}
        assert f"{prefix}-{bucket}" in {r.name for r in run.of(BUCKET)}

    # who runs it, and what it may touch
    assert {(a["accountId"], a["project"]) for a in run.named(ACCOUNT).values()} == expect[
        "accounts"
    ]
    grants = expect["grants"]
    if expect["accounts"] and conf["deployers"]:
        account = (
            "projects/acme-ml-prod/serviceAccounts/batch-jobs@acme-ml-prod.iam.gserviceaccount.com"
        )
        grants = grants | {("account", account, "roles/iam.serviceAccountUser", DEPLOYER)}
    assert run.grants() == grants
    if "member" in expect:
        assert run.outputs[name]["serviceAccount"] == expect["member"].split(":", 1)[1]
    problems = [p.split(" (")[0] for p in stack_problems(run.pairs())]
    assert problems == expect.get("policy", [])


# --- configuration problems stop the program cleanly --------------------------------


def test_a_misspelt_config_key_stops_the_program_with_a_suggestion() -> None:
    config = {**stack_config("dev"), "batchspec:namePrefx": "x"}
    with pytest.raises(pulumi.RunError, match=r"did you mean `batchspec:namePrefix`"):
        run_stack("dev", config)


def test_a_spec_with_errors_stops_the_program_naming_the_file(project: Project) -> None:
    project.write(local_spec())
    bad = local_spec("broken")
    bad["spec"]["input"]["format"] = "PARQUET"
    project.write(bad, "broken.yaml")
    with pytest.raises(pulumi.RunError, match=r"broken\.yaml:\d+:\d+: BS\d+"):
        run_stack("dev", tmp_config(project), program=program_in(project))


def test_a_selection_matching_nothing_is_an_error(project: Project) -> None:
    project.write(local_spec())
    config = {**tmp_config(project), "batchspec:select": json.dumps(["nothing_*"])}
    with pytest.raises(pulumi.RunError, match="no spec is selected"):
        run_stack("dev", config, program=program_in(project))


def test_cloud_specs_without_a_project_say_which_config_to_set(project: Project) -> None:
    doc = local_spec("remote")
    doc["spec"].update(
        target="vertex",
        model={"resource": "projects/p-123456/locations/us-central1/models/1"},
        input={"format": "JSONL", "paths": ["gs://in-bucket/x/*"]},
        output={"path": "gs://out-bucket/y/"},
        resources={"machineType": "n1-standard-4", "replicaCount": 1},
    )
    project.write(doc)
    with pytest.raises(pulumi.RunError, match="BS261") as info:
        run_stack("dev", tmp_config(project), program=program_in(project))
    assert "gcp:project" in str(info.value)
    run = run_stack(
        "dev",
        {**tmp_config(project), "gcp:project": "p-123456", "gcp:region": "us-central1"},
        program=program_in(project),
    )
    job = run.jobs["remote"]
    assert (job["project"], job["region"]) == ("p-123456", "us-central1")
    assert set(run.buckets) == {"out-bucket"}


def test_secrets_in_a_spec_never_reach_resource_inputs(project: Project) -> None:
    doc = local_spec("with_secret")
    doc["spec"]["model"] = {
        "local": {
            "runner": "command",
            "command": ["score", "--token", "s3cret-in-args"],
            "env": {"API_TOKEN": "s3cret-in-env", "MODE": "fast"},
        }
    }
    project.write(doc)
    run = run_stack("dev", tmp_config(project), program=program_in(project))
    text = json.dumps([r.inputs for r in run.resources], default=str)
    assert "s3cret" not in text
    assert "API_TOKEN" not in text  # runner env and command are left out of the summary
    local = run.jobs["with_secret"]["request"]["model"]["local"]
    assert local == {"runner": "command", "timeoutSeconds": 3600.0}


def tmp_config(project: Project) -> dict[str, str]:
    return {
        "batchspec:specs": json.dumps(["../specs"]),
        "batchspec:namePrefix": "t",
        "batchspec:state": "../.batchspec/state.db",
        "batchspec:home": "../.batchspec",
    }


def program_in(project: Project) -> Path:
    """The stacks program, copied into the test's project folder."""
    project.stack_dir.mkdir(parents=True, exist_ok=True)
    target = project.stack_dir / "__main__.py"
    target.write_text((REPO / "stacks" / "__main__.py").read_text())
    return target
