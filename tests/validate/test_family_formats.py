"""Format compatibility and explanations, each case with its source."""

from __future__ import annotations

import pytest

from tests.validate.cases import Case, check_case, ids
from tests.validate.helpers import DROP

KEY = "aiplatform v1 InstanceConfig.key_field (JSONL, CSV, BigQuery, TfRecord)"
FIELDS = "aiplatform v1 InstanceConfig.included_fields/excluded_fields (JSONL, BigQuery, TfRecord)"
ITYPE = "aiplatform v1 InstanceConfig.instance_type"
EXPLAIN = "aiplatform v1 BatchPredictionJob.generate_explanation, explanation_spec"
EXPLAINABLE = "https://cloud.google.com/vertex-ai/docs/explainable-ai/getting-explanations"
PUBLISHER = (
    "https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/batch-prediction-api"
)
GEMINI_FILE = (
    "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/"
    "batch-prediction-from-cloud-storage"
)
MLE = "ml v1 PredictionInput.dataFormat, outputDataFormat"
GENAI = "google-genai types.BatchJobSource.format"
ENGINE = "batchspec local engine (engine/instances.py)"
FMT_IN, FMT_OUT = "spec.input.format", "spec.output.format"
BQ_IN = {"input.paths": DROP, "input.format": "BIGQUERY", "input.bigquery": "bq://proj-123456.d.t"}
SHAPLEY = {"sampledShapleyAttribution": {"pathCount": 10}}


def fmt(value: str, **more: object) -> dict[str, object]:
    return {"input.format": value, **{f"input.{k}": v for k, v in more.items()}}


def explain(**more: object) -> dict[str, object]:
    return {"generateExplanation": True, **more}


CASES: list[Case] = [
    # instance config on Vertex
    Case("key-jsonl", "vertex", fmt("JSONL", keyField="id"), None, source=KEY),
    Case("key-csv", "vertex", fmt("CSV", keyField="id"), None, source=KEY),
    Case("key-bigquery", "vertex", {**BQ_IN, "input.keyField": "id"}, None, source=KEY),
    Case("key-tfrecord", "vertex", fmt("TF_RECORD", keyField="id"), None, source=KEY),
    Case(
        "key-file-list",
        "vertex",
        fmt("FILE_LIST", keyField="id"),
        "BS233",
        "spec.input.keyField",
        KEY,
    ),
    Case("included-jsonl", "vertex", fmt("JSONL", includedFields=["a"]), None, source=FIELDS),
    Case(
        "included-tfrecord", "vertex", fmt("TF_RECORD", includedFields=["a"]), None, source=FIELDS
    ),
    Case(
        "included-csv",
        "vertex",
        fmt("CSV", includedFields=["a"]),
        "BS233",
        "spec.input.includedFields",
        FIELDS,
    ),
    Case(
        "excluded-file-list",
        "vertex",
        fmt("FILE_LIST", excludedFields=["a"]),
        "BS233",
        "spec.input.excludedFields",
        FIELDS,
    ),
    Case(
        "both-field-lists",
        "vertex",
        fmt("JSONL", includedFields=["a"], excludedFields=["b"]),
        "BS233",
        "spec.input.excludedFields",
        FIELDS,
    ),
    Case("instance-type-jsonl", "vertex", fmt("JSONL", instanceType="object"), None, source=ITYPE),
    Case(
        "instance-type-csv",
        "vertex",
        fmt("CSV", instanceType="object"),
        "BS233",
        "spec.input.instanceType",
        ITYPE,
        True,
    ),
    Case(
        "array-without-order",
        "vertex",
        fmt("JSONL", instanceType="array"),
        "BS233",
        "spec.input.instanceType",
        ITYPE,
        True,
    ),
    Case(
        "array-with-order",
        "vertex",
        fmt("JSONL", instanceType="array", includedFields=["a", "b"]),
        None,
        source=ITYPE,
    ),
    # explanations
    Case("explain-jsonl", "vertex", explain(), None, source=EXPLAIN),
    Case("explain-csv", "vertex", explain(**{"output.format": "CSV"}), "BS257", FMT_OUT, EXPLAIN),
    Case(
        "explain-bigquery",
        "vertex",
        explain(
            **{
                "output.path": DROP,
                "output.format": "BIGQUERY",
                "output.bigquery": "bq://proj-123456",
            }
        ),
        None,
        source=EXPLAIN,
    ),
    Case(
        "explain-spec",
        "vertex",
        explain(explanationSpec={"parameters": SHAPLEY}),
        None,
        source=EXPLAIN,
    ),
    Case(
        "spec-without-flag",
        "vertex",
        {"explanationSpec": {"parameters": SHAPLEY}},
        "BS257",
        "spec.explanationSpec",
        EXPLAIN,
    ),
    Case(
        "two-methods",
        "vertex",
        explain(explanationSpec={"parameters": {**SHAPLEY, "xraiAttribution": {}}}),
        "BS257",
        "spec.explanationSpec.parameters",
        "aiplatform v1 ExplanationParameters (oneof method)",
    ),
    Case(
        "unknown-parameter",
        "vertex",
        explain(explanationSpec={"parameters": {"shapley": {}}}),
        "BS257",
        "spec.explanationSpec.parameters.shapley",
        "aiplatform v1 ExplanationParameters",
    ),
    Case(
        "explain-publisher",
        "publisher",
        explain(),
        "BS257",
        "spec.generateExplanation",
        EXPLAINABLE,
    ),
    Case(
        "explain-genai",
        "genai",
        explain(),
        "BS301",
        "spec.generateExplanation",
        "google-genai types.CreateBatchJobConfig",
    ),
    # model families
    Case("publisher-bigquery", "publisher", BQ_IN, None, source=PUBLISHER),
    Case("publisher-csv-in", "publisher", fmt("CSV"), "BS221", FMT_IN, PUBLISHER),
    Case("publisher-tfrecord-in", "publisher", fmt("TF_RECORD"), "BS221", FMT_IN, PUBLISHER),
    Case("publisher-csv-out", "publisher", {"output.format": "CSV"}, "BS221", FMT_OUT, PUBLISHER),
    Case(
        "gemini-two-files",
        "publisher",
        {"input.paths": ["gs://bucket/a.jsonl", "gs://bucket/b.jsonl"]},
        "BS221",
        "spec.input.paths",
        GEMINI_FILE,
    ),
    Case(
        "gemini-wildcard",
        "publisher",
        {"input.paths": ["gs://bucket/in/*.jsonl"]},
        "BS221",
        "spec.input.paths[0]",
        GEMINI_FILE,
        True,
    ),
    Case(
        "partner-two-files",
        "publisher",
        {
            "model": {"publisher": "publishers/anthropic/models/claude-3-5-haiku"},
            "input.paths": ["gs://bucket/a.jsonl", "gs://bucket/b.jsonl"],
        },
        None,
        source=f"{GEMINI_FILE} is Gemini's rule",
    ),
    # formats per service
    Case(
        "vertex-text",
        "vertex",
        fmt("TEXT"),
        "BS220",
        FMT_IN,
        "aiplatform v1 InputConfig.instances_format",
    ),
    Case(
        "mle-jsonl-csv",
        "mlengine",
        {"input.format": "JSONL", "output.format": "CSV"},
        None,
        source=MLE,
    ),
    Case("mle-csv-in", "mlengine", fmt("CSV"), "BS220", FMT_IN, MLE),
    Case("mle-tfrecord-out", "mlengine", {"output.format": "TF_RECORD"}, "BS220", FMT_OUT, MLE),
    Case("mle-bigquery-in", "mlengine", BQ_IN, "BS220", FMT_IN, MLE),
    Case("genai-csv", "genai", fmt("CSV"), "BS220", FMT_IN, GENAI),
    Case("genai-bigquery", "genai", BQ_IN, None, source=GENAI),
    # the local engine's own rules
    Case(
        "local-key-text",
        "local",
        fmt("TEXT", keyField="id"),
        "BS233",
        "spec.input.keyField",
        ENGINE,
    ),
    Case(
        "local-key-tfrecord-b64",
        "local",
        fmt("TF_RECORD", keyField="id"),
        "BS233",
        "spec.input.keyField",
        ENGINE,
    ),
    Case(
        "local-key-tfrecord-example",
        "local",
        fmt("TF_RECORD", keyField="id", tfRecordDecode="example"),
        None,
        source=ENGINE,
    ),
    Case(
        "local-decode-jsonl",
        "local",
        fmt("JSONL", tfRecordDecode="example"),
        "BS233",
        "spec.input",
        ENGINE,
        True,
    ),
    Case(
        "mle-key",
        "mlengine",
        fmt("JSONL", keyField="id"),
        "BS301",
        "spec.input.keyField",
        "ml v1 PredictionInput (no instance selection)",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_formats(case: Case) -> None:
    check_case(case)
