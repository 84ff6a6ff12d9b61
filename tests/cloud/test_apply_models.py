"""`batchspec apply` of a `kind: Model` and a job running it, through the CLI
against the REST double: the upload (a long-running operation) happens
before the job, exactly once, and survives a run killed mid-upload and a
model deleted outside batchspec."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from batchspec.cli.main import main
from batchspec.state import StateStore
from batchspec.state.models import ModelPhase
from tests.cloud.conftest import PROJECT, REGION, anonymous

MODEL = f"projects/{PROJECT}/locations/{REGION}/models/reviews"


def double_vertex() -> Any:
    from batchspec.backends.vertex import VertexBackend

    backend = VertexBackend(credentials=anonymous())
    backend.models().sleep = lambda _s: None  # polls count reads, not seconds
    return backend


def write_specs(folder: Path, image: str = "us-docker.pkg.dev/p/serving/reviews:1") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "reviews.yaml").write_text(
        textwrap.dedent(
            f"""\
            apiVersion: batchspec.dev/v1
            kind: Model
            metadata:
              name: reviews
            spec:
              artifactUri: gs://bucket/models/reviews/
              container:
                imageUri: {image}
                predictRoute: /predict
                healthRoute: /health
            ---
            apiVersion: batchspec.dev/v1
            kind: BatchPredictionJob
            metadata:
              name: review_scores
            spec:
              target: vertex
              model:
                ref: reviews
              input:
                format: JSONL
                paths: [gs://bucket/requests/part-*]
              output:
                path: gs://bucket/results/
            """
        )
    )
    return folder


@pytest.fixture
def env(tmp_path: Path, double, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BATCHSPEC_PROJECT", PROJECT)
    monkeypatch.setenv("BATCHSPEC_REGION", REGION)
    monkeypatch.setenv("BATCHSPEC_VERTEX_ENDPOINT", double.url)
    monkeypatch.setenv("BATCHSPEC_BACKEND_VERTEX", f"{__name__}:double_vertex")
    monkeypatch.setenv("BATCHSPEC_STATE", str(tmp_path / "state.db"))
    double.upload_reads = 3
    return tmp_path / "state.db"


def calls(double, name: str) -> list[Any]:
    return [c for c in double.calls if c.call == name]


def test_plan_then_apply_uploads_before_the_job_once(tmp_path, double, env, capsys) -> None:
    specs = write_specs(tmp_path / "specs")
    assert main(["plan", str(specs)]) == 2
    out = capsys.readouterr().out
    assert out.index("upload") < out.index("review_scores") and "1 model(s) to upload" in out

    assert main(["apply", str(specs)]) == 0
    kinds = [c.call for c in double.calls if c.call in ("upload", "create")]
    assert kinds == ["upload", "create"]  # the model first
    (version,) = double.model_versions(MODEL)
    (job,) = double.create_calls()
    assert job.body["model"].startswith(MODEL + "@bs-")
    assert job.body["model"].split("@")[1] in version["versionAliases"]

    assert main(["apply", str(specs)]) == 0
    assert "No changes" in capsys.readouterr().out
    assert len(calls(double, "upload")) == 1 and len(double.create_calls()) == 1


def test_a_new_revision_is_a_new_version_and_replaces_the_job(tmp_path, double, env) -> None:
    specs = write_specs(tmp_path / "specs")
    assert main(["apply", str(specs)]) == 0
    write_specs(specs, image="us-docker.pkg.dev/p/serving/reviews:2")
    assert main(["apply", str(specs)]) == 0
    versions = double.model_versions(MODEL)
    assert [v["versionId"] for v in versions] == ["1", "2"]
    assert versions[1]["containerSpec"]["imageUri"].endswith(":2")
    assert len(double.create_calls()) == 2  # the job runs the new version


def test_killed_mid_upload_then_apply_again_is_one_version(tmp_path, double, env) -> None:
    """The run recorded its intent and sent the upload, then died before it
    recorded the operation: the next apply waits for it and adopts."""
    from batchspec.compile import compile_paths

    specs = write_specs(tmp_path / "specs")
    (model,) = compile_paths([str(specs)]).models
    with StateStore.open(env) as store:
        store.record_model_intent(model, actor="killed", reason="new")
    backend = double_vertex()
    backend.models().upload(model, as_version=False)  # the answer is lost with the process
    assert double.model_versions(MODEL) == []  # still uploading

    assert main(["apply", str(specs)]) == 0
    assert len(calls(double, "upload")) == 1
    assert len(double.model_versions(MODEL)) == 1
    with StateStore.open(env) as store:
        (record,) = store.model_records("reviews")
        assert record.phase is ModelPhase.UPLOADED and record.resource == f"{MODEL}@1"
        assert [e.event for e in store.model_events("reviews")] == ["intent", "adopted"]


def test_deleted_outside_is_drift_and_uploaded_again(tmp_path, double, env, capsys) -> None:
    specs = write_specs(tmp_path / "specs")
    assert main(["apply", str(specs)]) == 0
    double.delete_model_from_outside(MODEL)
    capsys.readouterr()
    assert main(["apply", str(specs)]) == 0
    assert "uploaded" in capsys.readouterr().out
    assert len(double.model_versions(MODEL)) == 1
    assert len(calls(double, "upload")) == 2
    with StateStore.open(env) as store:
        records = store.model_records("reviews")
        assert [r.disposition.value for r in records] == ["superseded", "current"]
        assert records[0].missing_since is not None
        (event,) = store.drift_events()
        assert event.finding.kind.value == "deleted_outside" and event.finding.name == "reviews"


def test_relabelled_outside_is_drift_but_not_a_new_version(tmp_path, double, env) -> None:
    specs = write_specs(tmp_path / "specs")
    assert main(["apply", str(specs)]) == 0
    double.relabel_from_outside(f"{MODEL}@1", {"team": "someone-else"})
    assert main(["apply", str(specs)]) == 0
    assert len(calls(double, "upload")) == 1  # labels can be patched back; no new version
    with StateStore.open(env) as store:
        (event,) = store.drift_events()
        assert event.finding.kind.value == "changed_outside"
        assert "batchspec-fp" in event.finding.detail


def test_a_failed_upload_fails_its_jobs_and_nothing_else(tmp_path, double, env, capsys) -> None:
    specs = write_specs(tmp_path / "specs")
    double.fail_next_upload("Image us-docker.pkg.dev/p/serving/reviews:1 not found")
    assert main(["apply", str(specs)]) == 1
    said = capsys.readouterr()
    text = said.out + said.err
    assert "not found" in said.err and "review_scores" in text and "not submitted" in text
    assert double.create_calls() == []
    assert main(["apply", str(specs)]) == 0  # the image was pushed meanwhile
    assert len(double.model_versions(MODEL)) == 1 and len(double.create_calls()) == 1


def test_a_saved_plan_uploads_the_reviewed_revision(tmp_path, double, env, capsys) -> None:
    specs = write_specs(tmp_path / "specs")
    saved = tmp_path / "plan.json"
    assert main(["plan", str(specs), "--out", str(saved)]) == 2
    write_specs(specs, image="us-docker.pkg.dev/p/serving/reviews:9")  # changed after review
    assert main(["apply", str(saved)]) == 0
    (version,) = double.model_versions(MODEL)
    assert version["containerSpec"]["imageUri"].endswith(":1")  # what was reviewed
    assert len(double.create_calls()) == 1


def polling_vertex() -> Any:
    """The backend of the killed apply: it polls the upload's operation for real."""
    from batchspec.backends.vertex import VertexBackend

    backend = VertexBackend(credentials=anonymous())
    backend.models().poll_seconds = 0.05
    return backend


def test_kill_9_during_an_upload_then_apply_again_is_one_version(
    tmp_path, double, env, monkeypatch
) -> None:
    """A real `batchspec apply` process, killed with SIGKILL while the upload's
    operation runs; the next apply waits for it and adopts the version."""
    import signal
    import subprocess
    import sys

    from batchspec.testing.process import wait_until
    from tests.conftest import REPO

    specs = write_specs(tmp_path / "specs")
    double.upload_reads = 10**9  # the operation never ends while the first apply runs
    monkeypatch.setenv("BATCHSPEC_BACKEND_VERTEX", f"{__name__}:polling_vertex")
    errors = tmp_path / "apply.stderr"
    with errors.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "batchspec", "apply", str(specs), "--yes"],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )

    def polling() -> list[Any]:
        # A child that died says why at once, instead of a timeout saying nothing.
        assert proc.poll() is None, f"the apply exited ({proc.returncode}): {errors.read_text()}"
        return [op for op in double.operations.values() if op.reads >= 2]

    try:
        # 120 s as for the other child processes: starting one on a loaded runner
        # (the whole suite beside other work) took longer than the default 30 s.
        wait_until(polling, timeout=120, what="the apply process to poll its upload")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert double.model_versions(MODEL) == [] and len(calls(double, "upload")) == 1

    double.upload_reads = 1
    monkeypatch.setenv("BATCHSPEC_BACKEND_VERTEX", f"{__name__}:double_vertex")
    assert main(["apply", str(specs)]) == 0
    assert len(calls(double, "upload")) == 1  # waited for the first upload, adopted it
    assert len(double.model_versions(MODEL)) == 1 and len(double.create_calls()) == 1
    with StateStore.open(env) as store:
        (record,) = store.model_records("reviews")
        assert record.phase is ModelPhase.UPLOADED
        events = [e.event for e in store.model_events("reviews")]
        assert events == ["intent", "uploading", "adopted"]


def test_apply_json_reports_the_uploads(tmp_path, double, env, capsys) -> None:
    import json

    specs = write_specs(tmp_path / "specs")
    assert main(["apply", str(specs), "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (model,) = doc["models"]
    assert model["name"] == "reviews" and model["ok"] and f"{MODEL}@1" in model["message"]
    assert [m["name"] for m in doc["plan"]["models"]] == ["reviews"]


def test_plan_refresh_shows_a_version_deleted_outside(tmp_path, double, env, capsys) -> None:
    """Read only: the refreshed plan uploads it again before its job, the
    plain plan (state alone) does not know, and nothing is recorded."""
    specs = write_specs(tmp_path / "specs")
    assert main(["apply", str(specs)]) == 0
    double.delete_model_from_outside(MODEL)
    capsys.readouterr()
    assert main(["plan", str(specs)]) == 0
    assert main(["plan", str(specs), "--refresh"]) == 2
    out = capsys.readouterr().out
    assert f"drift: {MODEL}@1 was deleted outside batchspec; upload again" in out
    assert out.index("Models:") < out.index("Jobs:") and "1 model(s) to upload" in out
    with StateStore.open(env) as store:
        (record,) = store.model_records("reviews")
        assert record.missing_since is None and store.drift_events() == []
    assert main(["apply", str(specs)]) == 0
    assert len(calls(double, "upload")) == 2 and len(double.model_versions(MODEL)) == 1


def test_plan_refresh_shows_a_version_relabelled_outside(tmp_path, double, env, capsys) -> None:
    specs = write_specs(tmp_path / "specs")
    assert main(["apply", str(specs)]) == 0
    double.relabel_from_outside(f"{MODEL}@1", {"team": "someone-else"})
    capsys.readouterr()
    assert main(["plan", str(specs), "--refresh", "-o", "json"]) == 0  # nothing to upload
    import json

    (model,) = json.loads(capsys.readouterr().out)["models"]
    assert model["kind"] == "noop"
    assert "no longer carries its revision's batchspec-fp label" in model["reason"]
    assert "patch the label back" in model["reason"]


def test_plan_refresh_says_when_the_registry_cannot_be_asked(tmp_path, double, env, capsys) -> None:
    specs = write_specs(tmp_path / "specs")
    assert main(["apply", str(specs)]) == 0
    double.faults.status("get", 403, message="Permission aiplatform.models.get denied")
    capsys.readouterr()
    assert main(["plan", str(specs), "--refresh"]) == 1
    out = capsys.readouterr().out
    assert "vertex (models):" in out and "aiplatform.models.get denied" in out
