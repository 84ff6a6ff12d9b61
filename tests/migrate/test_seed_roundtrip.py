"""Seed 001's example, imported, is the job `specs/census_mlengine.yaml` describes."""

from __future__ import annotations

import json

from batchspec.compile import compile_spec
from batchspec.migrate import import_text
from batchspec.validate import validate_paths
from tests.conftest import SPECS

# Seed 001's variables and command, with the version the example spec uses.
SEED_SCRIPT = """\
now=$(date +"%Y%m%d_%H%M%S")
JOB_NAME="census_batch_predict_$now"
MODEL_NAME="census"
INPUT_PATHS=gs://acme-census/batch/inputs/*,gs://acme-census/batch/extra/file.json,gs://acme-census/batch/templates/data*
OUTPUT_PATH=gs://acme-census/batch/outputs/
REGION=us-central1
DATA_FORMAT="text"

gcloud ml-engine jobs submit prediction $JOB_NAME \\
    --model $MODEL_NAME \\
    --version v2 \\
    --input-paths $INPUT_PATHS \\
    --output-path $OUTPUT_PATH \\
    --region $REGION \\
    --data-format $DATA_FORMAT
"""

# What seed 001's make_batch_job_body returns for the same job.
SEED_BODY = {
    "jobId": "acme_ml_legacy_census_20190101_120000",
    "predictionInput": {
        "dataFormat": "TEXT",
        "inputPaths": [
            "gs://acme-census/batch/inputs/*",
            "gs://acme-census/batch/extra/file.json",
            "gs://acme-census/batch/templates/data*",
        ],
        "outputPath": "gs://acme-census/batch/outputs/",
        "region": "us-central1",
        "versionName": "projects/acme-ml-legacy/models/census/versions/v2",
        "maxWorkerCount": 10,
    },
}


def census_job():  # type: ignore[no-untyped-def]
    [loaded] = validate_paths([str(SPECS / "census_mlengine.yaml")]).specs
    return compile_spec(loaded.spec, env={})


def test_seed_gcloud_script_imports_to_the_example_spec() -> None:
    result = import_text(
        SEED_SCRIPT,
        source="seed-001.sh",
        project="acme-ml-legacy",
        variables={"JOB_NAME": "census_batch_predict"},
    )
    [job] = result.jobs
    imported = compile_spec(job.spec, env={})
    expected = census_job()
    assert imported.fingerprint == expected.fingerprint
    assert imported.body == expected.body
    assert "gcloud ml-engine jobs submit prediction $JOB_NAME" in result.yaml
    assert "shut down on 2025-01-31" in result.yaml


def test_seed_body_imports_to_the_example_job() -> None:
    result = import_text(json.dumps(SEED_BODY), name="census_batch_predict")
    imported = compile_spec(result.jobs[0].spec, env={})
    assert imported.fingerprint == census_job().fingerprint


def test_a_compiled_body_imports_back_to_the_same_spec_name_and_fingerprint() -> None:
    expected = census_job()
    result = import_text(json.dumps(expected.body))
    [job] = result.jobs
    assert job.spec.name == "census_batch_predict"  # recovered from the derived job id
    assert compile_spec(job.spec, env={}).body == expected.body
