"""Stack configuration parsing, layout decisions and import weight, without Pulumi."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from batchspec.compile import compile_spec
from batchspec.model.enums import Target
from batchspec.pulumi.layout import (
    IdentityKind,
    bucket_of,
    job_layout,
    safe_name,
    stack_layout,
)
from batchspec.pulumi.settings import StackConfigError, settings_from
from batchspec.validate import validate_paths
from tests.pulumi.conftest import REPO


def parse(tmp_path: Path, **values: object) -> object:
    config = {
        f"batchspec:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()
    }
    return settings_from(config, stack="Dev_EU", project_dir=tmp_path)


def test_defaults_resolve_against_the_project_folder(tmp_path: Path) -> None:
    s = settings_from({}, stack="Dev_EU", project_dir=tmp_path / "stacks")
    assert s.name_prefix == "dev-eu"
    assert s.specs == ((tmp_path / "specs").resolve(),)
    assert s.state_path == (tmp_path / ".batchspec" / "state.db").resolve()
    assert s.home == (tmp_path / ".batchspec").resolve()
    assert s.run == ("*",) and s.targets == () and s.lock_timeout == 300.0
    assert s.output_retention_days == 30 and s.compile_env == {}


def test_structured_values_arrive_as_json_or_comma_text(tmp_path: Path) -> None:
    s = settings_from(
        {
            "batchspec:targets": '["local", "vertex"]',
            "batchspec:select": "a_*, b",
            "batchspec:protect": "true",
            "batchspec:outputRetentionDays": "0",
            "batchspec:labels": '{"env": "prod"}',
            "gcp:project": "acme-ml-prod",
            "gcp:region": "us-central1",
        },
        stack="prod",
        project_dir=tmp_path,
    )
    assert s.targets == (Target.LOCAL, Target.VERTEX)
    assert s.select == ("a_*", "b")
    assert s.protect is True and s.output_retention_days is None
    assert s.labels == {"env": "prod"}
    assert s.compile_env == {"BATCHSPEC_PROJECT": "acme-ml-prod", "BATCHSPEC_REGION": "us-central1"}


def test_batchspec_project_wins_over_gcp_project(tmp_path: Path) -> None:
    s = settings_from(
        {"batchspec:project": "mine-123", "gcp:project": "theirs-123"},
        stack="x",
        project_dir=tmp_path,
    )
    assert s.project == "mine-123"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("namePrefx", "x", "did you mean `batchspec:namePrefix`"),
        ("namePrefix", "Prod_1", "lowercase letters"),
        ("targets", ["local", "tpu"], "one of local"),
        ("protect", "yes", "true or false"),
        ("lockTimeout", "-1", "0 or more"),
        ("outputRetentionDays", "a week", "whole number of days"),
        ("labels", {"Env": "x"}, "Google's label rules"),
        ("deployers", ["ci@acme.iam.gserviceaccount.com"], "IAM members such as"),
        ("specs", [], "at least one spec"),
    ],
)
def test_bad_values_name_the_key_and_what_is_expected(
    tmp_path: Path, key: str, value: object, words: str
) -> None:
    with pytest.raises(StackConfigError) as info:
        parse(tmp_path, **{key: value})
    text = info.value.message + " " + (info.value.hint or "")
    assert words in text


def test_other_namespaces_are_left_alone(tmp_path: Path) -> None:
    s = settings_from({"aws:region": "x", "gcp:zone": "y"}, stack="dev", project_dir=tmp_path)
    assert s.project is None


def compiled(file: str, name: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    loaded = next(s for s in validate_paths([str(REPO / "specs" / file)]).specs if s.name == name)
    return compile_spec(loaded.spec, source=loaded.file, env=env or {})


def test_an_account_outside_the_jobs_project_is_used_but_not_created(tmp_path: Path) -> None:
    job = compiled("catalogue_vertex.yaml", "catalogue_embeddings")
    shared = job.spec.model_copy(
        update={
            "spec": job.spec.spec.model_copy(
                update={"service_account": "runner@shared-sa-project.iam.gserviceaccount.com"}
            )
        }
    )
    other = compile_spec(shared, source=job.source, env={})
    layout = job_layout(other, settings_from({}, stack="p", project_dir=tmp_path))
    assert layout.identity is not None
    assert layout.identity.kind is IdentityKind.ACCOUNT and not layout.identity.managed
    stack = stack_layout([other], settings_from({}, stack="p", project_dir=tmp_path))
    assert stack.accounts == []
    assert ("bucket", "acme-catalogue", "roles/storage.objectCreator", layout.identity.key) in {
        g.key for g in layout.bindings
    }


def test_manage_service_accounts_false_creates_none(tmp_path: Path) -> None:
    job = compiled("catalogue_vertex.yaml", "catalogue_embeddings")
    settings = settings_from(
        {"batchspec:manageServiceAccounts": "false"}, stack="p", project_dir=tmp_path
    )
    assert stack_layout([job], settings).accounts == []


def test_two_specs_writing_to_one_bucket_share_it(tmp_path: Path) -> None:
    a = compiled("review_sentiment_genai.yaml", "review_sentiment_claude")
    spec = a.spec.model_copy(
        update={"metadata": a.spec.metadata.model_copy(update={"name": "review_sentiment_again"})}
    )
    b = compile_spec(spec, source=a.source, env={})
    layout = stack_layout([a, b], settings_from({}, stack="p", project_dir=tmp_path))
    assert list(layout.buckets) == ["acme-reviews"]
    assert layout.buckets["acme-reviews"].jobs == (
        "review_sentiment_again",
        "review_sentiment_claude",
    )
    [grants] = layout.bindings.values()
    assert len(grants) == 2  # viewer + creator, once


def test_small_helpers() -> None:
    assert (
        bucket_of("gs://b/x/y") == "b" and bucket_of("bq://p.d") is None and bucket_of(None) is None
    )
    assert safe_name("Sa_Batch--Jobs@x.com") == "sa-batch-jobs-x-com"


PROBE = """
import sys
import batchspec.pulumi
import batchspec.pulumi.policies, batchspec.pulumi.settings, batchspec.pulumi.layout
import batchspec.pulumi.runs, batchspec.pulumi.props, batchspec.pulumi.loading
print(sorted(m for m in sys.modules if m == "pulumi" or m.startswith(("pulumi.", "pulumi_"))))
"""


def test_plain_data_modules_do_not_import_pulumi() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_a_job_running_a_model_document_is_warned_about(project) -> None:
    """The program uploads no Model: BS409 says `batchspec apply` must (the
    job's request names the revision's alias)."""
    from batchspec.pulumi.loading import load_jobs
    from batchspec.testing.specs import model_doc, spec_doc

    project.write(model_doc("reviews"), "model.yaml")
    project.write(spec_doc("scores", "vertex", merge=False, model={"ref": "reviews"}), "job.yaml")
    loaded = load_jobs(project.settings())
    (warning,) = [d for d in loaded.warnings if d.code == "BS409"]
    assert "runs model reviews" in warning.message and "batchspec apply" in (warning.hint or "")
