"""The shipped workflow's steps, run in order as a runner would, against the
REST double (Vertex AI, ML Engine) and fake-gcs-server (inputs, outputs and
the shared `gs://` state): a pull request plans (exit 2, comment files
posted), a merge applies once (the local job runs to its end on the runner,
the retired ML Engine spec is not submitted), and a second merge with no
spec change changes nothing and exits 0.

Stand-ins: `pip` and `gh` are scripts that record their arguments (nothing
is installed or posted); actions/checkout is the prepared folder; the auth
action's inputs are checked and the production backends get anonymous
credentials through BATCHSPEC_BACKEND_<TARGET> (tests/workflow/plugins.py).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from batchspec.testing.cloud import CloudDouble
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import PROJECT, REGION
from tests.cloud.test_apply_cli import review_spec
from tests.cloud.test_end_to_end import upload
from tests.conftest import REPO
from tests.workflow.runner import JobRun, run_job

pytestmark = pytest.mark.slow

WORKFLOW = REPO / ".github" / "workflows" / "batchspec.yml"
VARIABLES = {
    "GCP_WORKLOAD_IDENTITY_PROVIDER": (
        "projects/123/locations/global/workloadIdentityPools/ci/providers/gh"
    ),
    "GCP_PLAN_SERVICE_ACCOUNT": "batchspec-plan@acme.iam.gserviceaccount.com",
    "GCP_APPLY_SERVICE_ACCOUNT": "batchspec-apply@acme.iam.gserviceaccount.com",
    "BATCHSPEC_PROJECT": PROJECT,
    "BATCHSPEC_REGION": REGION,
}
RECORDER = """#!/bin/sh
# Records its arguments, one call a line, and succeeds. Listing comments
# (`gh api --paginate ...`) answers with the ids of two earlier plan comments,
# as the --jq filter would print them.
printf '%s\\n' "$*" >> "{log}"
case "$*" in "api --paginate "*) printf '101\\n102\\n' ;; esac
"""


double = cloud_fixtures.double  # the REST double, one per test


class Repository:
    """A checkout of a repository using batchspec, and the runner around it."""

    def __init__(self, root: Path, bucket: str, env: dict[str, str]) -> None:
        self.root, self.bucket, self.env = root, bucket, env
        self.checkout = root / "checkout"
        self.calls = root / "calls"
        self.auth: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.variables = {**VARIABLES, "BATCHSPEC_STATE": f"gs://{bucket}/batchspec/prod"}

    def run(self, job: str, event: str, number: int = 7) -> JobRun:
        workflow = YAML(typ="safe").load(WORKFLOW.read_text())
        github = {
            "event_name": event,
            "repository": "acme/ml-jobs",
            "run_id": "4242",
            "token": "gh-token",
            "event": {"pull_request": {"number": number, "head": {"repo": {"fork": False}}}}
            if event == "pull_request"
            else {},
        }
        return run_job(
            workflow,
            job,
            workdir=self.checkout,
            github=github,
            variables=self.variables,
            base_env=self.env,
            actions={
                "actions/checkout": lambda inputs, env: None,
                "actions/setup-python": lambda inputs, env: None,
                "google-github-actions/auth": self._auth,
                "actions/upload-artifact": self._upload,
            },
        )

    def _auth(self, inputs: dict[str, Any], env: dict[str, str]) -> None:
        self.auth.append(inputs)

    def _upload(self, inputs: dict[str, Any], env: dict[str, str]) -> None:
        path = self.checkout / inputs["path"]
        self.uploads.append({**inputs, "exists": path.exists()})

    def recorded(self, tool: str) -> list[str]:
        log = self.calls / f"{tool}.log"
        return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def repository(tmp_path: Path, gcs: Any, bucket: str, double: CloudDouble) -> Repository:
    checkout = tmp_path / "checkout"
    (checkout / "specs").mkdir(parents=True)
    (checkout / "specs" / "reviews.yaml").write_text(review_spec(bucket))
    for name in ("iris_local.yaml", "census_mlengine.yaml"):
        shutil.copy(REPO / "specs" / name, checkout / "specs" / name)
    shutil.copytree(REPO / "data" / "iris", checkout / "data" / "iris")
    model = Path("batchspec/demo/data/iris_logreg.joblib")
    (checkout / model).parent.mkdir(parents=True)
    shutil.copy(REPO / model, checkout / model)
    upload(gcs, bucket)
    double.step_seconds = 0.05

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "calls").mkdir()
    for tool in ("pip", "gh"):
        (bin_dir / tool).write_text(RECORDER.format(log=tmp_path / "calls" / f"{tool}.log"))
        (bin_dir / tool).chmod(0o755)
    env = {
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin:/bin"]),
        "HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO),  # tests.workflow.plugins
        "STORAGE_EMULATOR_HOST": os.environ["STORAGE_EMULATOR_HOST"],
        "BATCHSPEC_VERTEX_ENDPOINT": double.url,
        "BATCHSPEC_MLENGINE_ENDPOINT": double.url,
        "BATCHSPEC_BACKEND_VERTEX": "tests.workflow.plugins:vertex",
        "BATCHSPEC_BACKEND_MLENGINE": "tests.workflow.plugins:mlengine",
    }
    return Repository(tmp_path, bucket, env)


def steps(run: JobRun) -> str:
    return "\n".join(f"--- {s.name}: {s.outcome} ({s.code})\n{s.output}" for s in run.steps)


def test_pull_request_plans_merge_applies_once_second_merge_changes_nothing(
    repository: Repository, double: CloudDouble, gcs: Any
) -> None:
    # Pull request: only the plan job runs; it plans changes and posts them.
    assert repository.run("apply", "pull_request").steps[0].outcome == "skipped"
    plan = repository.run("plan", "pull_request")
    assert plan.ok, steps(plan)
    assert plan.step("Plan").outputs == {"exit": "2"}, steps(plan)
    comments = sorted((repository.checkout / "plan-comments").glob("comment-*.md"))
    assert comments and "review_scores" in comments[0].read_text()
    calls = repository.recorded("gh")
    deleted = [c for c in calls if c.startswith("api -X DELETE")]
    assert deleted == [f"api -X DELETE repos/acme/ml-jobs/issues/comments/{i}" for i in (101, 102)]
    posted = [c for c in calls if c.startswith("pr comment")]
    assert calls.index(deleted[-1]) < calls.index(posted[0])  # the old plan goes first
    assert posted == [
        f"pr comment 7 --body-file {c.relative_to(repository.checkout)}" for c in comments
    ]
    assert [a["service_account"] for a in repository.auth] == [
        VARIABLES["GCP_PLAN_SERVICE_ACCOUNT"]
    ]
    assert all(
        a["workload_identity_provider"] == VARIABLES["GCP_WORKLOAD_IDENTITY_PROVIDER"]
        for a in repository.auth
    )
    assert repository.uploads and repository.uploads[-1]["exists"]
    assert double.create_calls() == []  # planning submits nothing

    # The install covers what the specs need: cloud clients and the local runners.
    installs = repository.recorded("pip")
    assert installs and all(i == "install .[cloud,models,ui]" for i in installs), installs

    # Merge: the apply job submits the Vertex job once, runs the local one to its
    # end, and never submits the retired ML Engine spec.
    repository.auth.clear()
    apply = repository.run("apply", "push")
    assert apply.ok, steps(apply)
    assert repository.run("plan", "push").steps[0].outcome == "skipped"
    assert [a["service_account"] for a in repository.auth] == [
        VARIABLES["GCP_APPLY_SERVICE_ACCOUNT"]
    ]
    assert len(double.create_calls("vertex")) == 1
    assert double.create_calls("mlengine") == []
    applied = apply.step("Apply").output
    assert "census_batch_predict" in applied and "retired" in applied, applied
    assert "SUCCEEDED" in apply.step("Run the local jobs to their end").output, steps(apply)
    assert gcs.ls(f"{repository.bucket}/batchspec/prod"), "the state was not pushed to gs://"

    # A second merge with no spec change: nothing submitted, every step green.
    again = repository.run("apply", "push")
    assert again.ok, steps(again)
    assert "No changes" in again.step("Apply").output, steps(again)
    assert len(double.create_calls("vertex")) == 1

    # And a pull request now plans no change: the plan step exits 0.
    replan = repository.run("plan", "pull_request", number=8)
    assert replan.ok, steps(replan)
    assert replan.step("Plan").outputs == {"exit": "0"}, steps(replan)


def test_apply_without_a_state_bucket_stops_before_applying(
    repository: Repository, double: CloudDouble
) -> None:
    """A repository that has not set BATCHSPEC_STATE gets a clear error, not a
    state file on the runner's disk that the next run never sees."""
    del repository.variables["BATCHSPEC_STATE"]
    run = repository.run("apply", "push")
    assert not run.ok
    check = run.step("Check the settings")
    assert check.outcome == "failure" and "BATCHSPEC_STATE to gs://BUCKET/PREFIX" in check.output
    assert run.step("Apply").outcome == "skipped"
    assert run.step("Drift report").outcome == "success"  # `if: always()` still reports
    assert double.create_calls() == []
