"""Cloud Storage and BigQuery URIs, both directions, each case with its source."""

from __future__ import annotations

import pytest

from batchspec.validate.rules.storage import split_bigquery, wildcard_problem
from tests.validate.cases import Case, check_case, diagnose, ids
from tests.validate.helpers import DROP

BUCKETS = "https://cloud.google.com/storage/docs/buckets#naming"
MLE_DOCS = "https://cloud.google.com/ai-platform/prediction/docs/batch-predict"
OBJECTS = "https://cloud.google.com/storage/docs/objects#naming"
WILDCARDS = "https://cloud.google.com/storage/docs/wildcards; aiplatform v1 GcsSource.uris"
MLE = f"{MLE_DOCS}; gcloud ai-platform jobs submit prediction --input-paths"
DEST = "aiplatform v1 GcsDestination.outputUriPrefix (a '/' is appended)"
BQ_SOURCE = "aiplatform v1 BigQuerySource.inputUri"
BQ_DEST = "aiplatform v1 BigQueryDestination.outputUri"
BQ_NAMES = (
    "https://cloud.google.com/bigquery/docs/datasets#dataset-naming;"
    " https://cloud.google.com/bigquery/docs/tables#table_naming"
)
PROJECTS = "https://cloud.google.com/resource-manager/reference/rest/v1/projects"
IN, OUT = "spec.input.paths[0]", "spec.output.path"
DOTTED_222 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 30])
LONG_DATASET = "d" * 1000


def bq_of_length(n: int) -> str:
    """A bq:// table URI of exactly `n` characters (a long dataset and table)."""
    head = f"bq://proj-123456.{LONG_DATASET}."
    return head + "t" * (n - len(head))


def inp(path: str) -> dict[str, object]:
    return {"input.paths": [path]}


def bq_in(uri: str) -> dict[str, object]:
    return {"input.paths": DROP, "input.format": "BIGQUERY", "input.bigquery": uri}


def bq_out(uri: str) -> dict[str, object]:
    return {"output.path": DROP, "output.format": "BIGQUERY", "output.bigquery": uri}


GCS: list[Case] = [
    # bucket names: 3..63 (222 with dots, 63 per part)
    Case("bucket-3", "vertex", inp("gs://abc/in/x.jsonl"), None, source=BUCKETS),
    Case("bucket-2", "vertex", inp("gs://ab/in/x.jsonl"), "BS234", IN, BUCKETS),
    Case("bucket-63", "vertex", inp(f"gs://{'a' * 63}/x"), None, source=BUCKETS),
    Case("bucket-64", "vertex", inp(f"gs://{'a' * 64}/x"), "BS234", IN, BUCKETS),
    Case("bucket-dotted-222", "vertex", inp(f"gs://{DOTTED_222}/x"), None, source=BUCKETS),
    Case("bucket-dotted-223", "vertex", inp(f"gs://{DOTTED_222}d/x"), "BS234", IN, BUCKETS),
    Case("bucket-dot-part-64", "vertex", inp(f"gs://{'a' * 64}.com/x"), "BS234", IN, BUCKETS),
    Case("bucket-underscore", "vertex", inp("gs://my_bucket/x"), None, source=BUCKETS),
    Case("bucket-uppercase", "vertex", inp("gs://MyBucket/x"), "BS234", IN, BUCKETS),
    Case("bucket-starts-dash", "vertex", inp("gs://-bucket/x"), "BS234", IN, BUCKETS),
    Case("bucket-ip", "vertex", inp("gs://192.168.5.4/x"), "BS234", IN, BUCKETS),
    Case("bucket-goog", "vertex", inp("gs://goog-data/x"), "BS234", IN, BUCKETS),
    Case("bucket-google", "vertex", inp("gs://my-g00gle-data/x"), "BS234", IN, BUCKETS),
    Case("bucket-missing", "vertex", inp("gs://"), "BS234", IN, BUCKETS),
    Case("bucket-missing-out", "vertex", {"output.path": "gs://"}, "BS234", OUT, BUCKETS),
    Case("output-uppercase", "vertex", {"output.path": "gs://Out/x/"}, "BS234", OUT, BUCKETS),
    Case("mle-bucket", "mlengine", inp("gs://b/in/*"), "BS234", IN, BUCKETS),
    Case("local-gcs-bucket", "local", inp("gs://b/x.jsonl"), "BS234", IN, BUCKETS),
    # object names
    Case("input-is-bucket", "vertex", inp("gs://bucket"), "BS234", IN, OBJECTS),
    Case("input-is-bucket-slash", "vertex", inp("gs://bucket/"), "BS234", IN, OBJECTS),
    Case("object-1024", "vertex", inp("gs://bucket/" + "a" * 1024), None, source=OBJECTS),
    Case("object-1025", "vertex", inp("gs://bucket/" + "a" * 1025), "BS234", IN, OBJECTS),
    Case("object-1024-bytes-utf8", "vertex", inp("gs://bucket/" + "é" * 512), None, source=OBJECTS),
    Case("object-1026-bytes-utf8", "vertex", inp("gs://bucket/" + "é" * 513), "BS234", IN, OBJECTS),
    Case("object-dotdot", "vertex", inp("gs://bucket/.."), "BS234", IN, OBJECTS),
    Case("object-newline", "vertex", inp("gs://bucket/a\nb"), "BS234", IN, OBJECTS),
    Case(
        "object-acme",
        "vertex",
        inp("gs://bucket/.well-known/acme-challenge/x"),
        "BS234",
        IN,
        OBJECTS,
    ),
    Case("object-parent-segment", "vertex", inp("gs://bucket/../x"), "BS234", IN, OBJECTS, True),
    Case("object-empty-segment", "vertex", inp("gs://bucket//x"), "BS234", IN, OBJECTS, True),
    Case("output-bucket-root", "vertex", {"output.path": "gs://bucket"}, None, source=DEST),
    Case(
        "output-bucket-root-mle",
        "mlengine",
        {"output.path": "gs://bucket"},
        None,
        source="ml v1 PredictionInput.outputPath (a Cloud Storage location)",
    ),
    Case("output-wildcard", "vertex", {"output.path": "gs://bucket/out/*"}, "BS241", OUT, DEST),
    Case("output-local-on-cloud", "vertex", {"output.path": "/tmp/out"}, "BS241", OUT, DEST),
    Case(
        "input-local-on-cloud",
        "vertex",
        inp("data/x.jsonl"),
        "BS231",
        IN,
        "aiplatform v1 GcsSource.uris",
    ),
    # wildcards: Cloud Storage's on Vertex, ML Engine's on ML Engine and the local engine
    Case(
        "vertex-double-star",
        "vertex",
        inp("gs://bucket/in/**/part-?.jsonl"),
        None,
        source=WILDCARDS,
    ),
    Case("vertex-char-set", "vertex", inp("gs://bucket/in/[a-m]*.jsonl"), None, source=WILDCARDS),
    Case("vertex-two-stars", "vertex", inp("gs://bucket/*/x*"), None, source=WILDCARDS),
    Case("vertex-mid-star", "vertex", inp("gs://bucket/a*b"), None, source=WILDCARDS),
    Case("genai-star", "genai", inp("gs://bucket/in/*.jsonl"), None, source=WILDCARDS),
    Case("vertex-bucket-wildcard", "vertex", inp("gs://buck*/x"), "BS232", IN, WILDCARDS, True),
    Case("mle-two-stars", "mlengine", inp("gs://bucket/*/x*"), "BS232", IN, MLE),
    Case("mle-mid-star", "mlengine", inp("gs://bucket/a*b"), "BS232", IN, MLE),
    Case("mle-prefix-star", "mlengine", inp("gs://bucket/in/data*"), None, source=MLE),
    Case("local-qmark", "local", inp("data/?.jsonl"), "BS232", IN, MLE),
    Case(
        "local-any-scheme",
        "local",
        {"input.paths": ["file:///d/x.jsonl", "gs://bucket/y*"]},
        None,
        source="batchspec local engine (fsspec)",
    ),
]

BQ: list[Case] = [
    Case("bq-source-table", "vertex", bq_in("bq://proj-123456.ds.table"), None, source=BQ_SOURCE),
    Case(
        "bq-source-no-scheme",
        "vertex",
        bq_in("proj-123456.ds.t"),
        "BS230",
        "spec.input.bigquery",
        BQ_SOURCE,
    ),
    Case(
        "bq-source-dataset-level",
        "vertex",
        bq_in("bq://proj-123456.ds"),
        "BS230",
        "spec.input.bigquery",
        BQ_SOURCE,
    ),
    Case(
        "bq-source-four-parts",
        "vertex",
        bq_in("bq://proj-123456.ds.t.x"),
        "BS230",
        "spec.input.bigquery",
        BQ_SOURCE,
    ),
    Case(
        "bq-short-project",
        "vertex",
        bq_in("bq://p1.ds.requests"),
        "BS236",
        "spec.input.bigquery",
        PROJECTS,
    ),
    Case(
        "bq-domain-project",
        "vertex",
        bq_in("bq://example.com:my-project.ds.t"),
        None,
        source=PROJECTS,
    ),
    Case("bq-unicode-table", "vertex", bq_in("bq://proj-123456.ds.таблица"), None, source=BQ_NAMES),
    Case(
        "bq-table-space-dash",
        "vertex",
        bq_in("bq://proj-123456.ds.my table-1"),
        None,
        source=BQ_NAMES,
    ),
    Case(
        "bq-table-slash",
        "vertex",
        bq_in("bq://proj-123456.ds.a/b"),
        "BS236",
        "spec.input.bigquery",
        BQ_NAMES,
    ),
    Case(
        "bq-partition",
        "vertex",
        bq_in("bq://proj-123456.ds.t$20240131"),
        None,
        source="https://cloud.google.com/bigquery/docs/partitioned-tables (decorators)",
    ),
    Case(
        "bq-dataset-dash",
        "vertex",
        bq_in("bq://proj-123456.my-ds.t"),
        "BS236",
        "spec.input.bigquery",
        BQ_NAMES,
    ),
    Case(
        "bq-dataset-1024", "local", bq_in(f"bq://proj-123456.{'d' * 1024}.t"), None, source=BQ_NAMES
    ),
    Case(
        "bq-dataset-1025",
        "local",
        bq_in(f"bq://proj-123456.{'d' * 1025}.t"),
        "BS236",
        "spec.input.bigquery",
        BQ_NAMES,
    ),
    Case("bq-uri-2000", "vertex", bq_in(bq_of_length(2000)), None, source=BQ_SOURCE),
    Case(
        "bq-uri-2001",
        "vertex",
        bq_in(bq_of_length(2001)),
        "BS236",
        "spec.input.bigquery",
        BQ_SOURCE,
    ),
    Case(
        "bq-uri-2001-local",
        "local",
        bq_in(bq_of_length(2001)),
        None,
        source="2000 is Vertex AI's limit, not BigQuery's",
    ),
    Case("bq-dest-project", "vertex", bq_out("bq://proj-123456"), None, source=BQ_DEST),
    Case("bq-dest-dataset", "vertex", bq_out("bq://proj-123456.out"), None, source=BQ_DEST),
    Case("bq-dest-table", "vertex", bq_out("bq://proj-123456.out.preds"), None, source=BQ_DEST),
    Case(
        "bq-dest-table-genai",
        "genai",
        bq_out("bq://proj-123456.out.preds"),
        None,
        source="google-genai CreateBatchJobConfig.dest (bq://projectId.bqDatasetId.bqTableId)",
    ),
    Case(
        "bq-dest-four-parts",
        "vertex",
        bq_out("bq://proj-123456.a.b.c"),
        "BS240",
        "spec.output.bigquery",
        BQ_DEST,
    ),
    Case(
        "bq-dest-project-upper",
        "vertex",
        bq_out("bq://Proj-123456"),
        "BS236",
        "spec.output.bigquery",
        PROJECTS,
    ),
]


@pytest.mark.parametrize("case", GCS, ids=ids(GCS))
def test_cloud_storage_uris(case: Case) -> None:
    check_case(case)


@pytest.mark.parametrize("case", BQ, ids=ids(BQ))
def test_bigquery_uris(case: Case) -> None:
    check_case(case)


def test_short_project_message_names_the_project_not_the_uri_form() -> None:
    case = next(c for c in BQ if c.id == "bq-short-project")
    _, found = diagnose(case)
    [hit] = [d for d in found if d.code == "BS236"]
    assert "project 'p1'" in hit.message and "not a BigQuery table URI" not in hit.message


def test_the_2000_character_cases_measure_what_they_say() -> None:
    assert len(bq_of_length(2000)) == 2000 and len(bq_of_length(2001)) == 2001


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("bq://p.d.t", ("p", "d", "t")),
        ("bq://p", ("p", None, None)),
        ("bq://example.com:p.d", ("example.com:p", "d", None)),
    ],
)
def test_bigquery_uris_split_into_their_parts(uri: str, parts: tuple[str, ...]) -> None:
    found = split_bigquery(uri)
    assert found is not None and (found.project, found.dataset, found.table) == parts


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("gs://path/to/my/input/file.json", True),
        ("gs://path/to/my/input/*", True),
        ("gs://path/to/my/input/file*", True),
        ("gs://path/*/input/file.json", False),
        ("gs://path/to/my/input/*.json", False),
        ("gs://path/to/my/input/f*l*", False),
        ("gs://path/to/[ab].json", False),
    ],
)
def test_ml_engine_wildcards(path: str, ok: bool) -> None:
    """ML Engine's documented examples, the rule it and the local engine follow."""
    assert (wildcard_problem(path) is None) is ok
