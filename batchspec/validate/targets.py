"""What each target accepts: regions, formats per direction, ways to name a model.

One table per fact, so rules, compilers and docs read the same source. The
Vertex region list is google-cloud-aiplatform's `constants.base.SUPPORTED_REGIONS`
(a test keeps this copy in step with the installed SDK, without importing the
SDK at validate time).
"""

from __future__ import annotations

from batchspec.model.enums import DataFormat, Target

F = DataFormat

# Cloud ML Engine's batch prediction documentation: "only available in a subset of regions".
MLENGINE_REGIONS = frozenset({"us-central1", "us-east1", "europe-west1", "asia-east1"})

VERTEX_REGIONS = frozenset(
    {
        "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2",
        "asia-northeast3", "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
        "australia-southeast1", "australia-southeast2", "europe-central2", "europe-north1",
        "europe-north2", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3",
        "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west12",
        "global", "me-central1", "me-central2", "me-west1", "northamerica-northeast1",
        "northamerica-northeast2", "southamerica-east1", "southamerica-west1", "us-central1",
        "us-east1", "us-east4", "us-east5", "us-east7", "us-south1", "us-west1", "us-west2",
        "us-west3", "us-west4", "us-west8",
    }
)  # fmt: skip

REGIONS: dict[Target, frozenset[str]] = {
    Target.MLENGINE: MLENGINE_REGIONS,
    Target.VERTEX: VERTEX_REGIONS,
    Target.GENAI: VERTEX_REGIONS,
}

_ALL_INPUTS = frozenset(
    {F.JSONL, F.TEXT, F.CSV, F.TF_RECORD, F.TF_RECORD_GZIP, F.FILE_LIST, F.BIGQUERY}
)

INPUT_FORMATS: dict[Target, frozenset[DataFormat]] = {
    # ML Engine DataFormat: JSON, TEXT (deprecated), TF_RECORD, TF_RECORD_GZIP; CSV output-only.
    Target.MLENGINE: frozenset({F.JSONL, F.TEXT, F.TF_RECORD, F.TF_RECORD_GZIP}),
    # Vertex instancesFormat: jsonl, csv, tf-record, tf-record-gzip, bigquery, file-list.
    Target.VERTEX: frozenset(
        {F.JSONL, F.CSV, F.TF_RECORD, F.TF_RECORD_GZIP, F.FILE_LIST, F.BIGQUERY}
    ),
    # google-genai on Vertex: src is gs:// JSONL or bq://.
    Target.GENAI: frozenset({F.JSONL, F.BIGQUERY}),
    Target.LOCAL: _ALL_INPUTS,
    Target.RAY: _ALL_INPUTS,
}

OUTPUT_FORMATS: dict[Target, frozenset[DataFormat]] = {
    # ML Engine outputDataFormat: JSON (default), CSV; TF_RECORD is input-only.
    Target.MLENGINE: frozenset({F.JSONL, F.CSV}),
    Target.VERTEX: frozenset({F.JSONL, F.CSV, F.BIGQUERY}),
    Target.GENAI: frozenset({F.JSONL, F.BIGQUERY}),
    Target.LOCAL: frozenset({F.JSONL, F.CSV, F.BIGQUERY}),
    Target.RAY: frozenset({F.JSONL, F.CSV}),
}

# Which `model.*` keys each target can use.
MODEL_WAYS: dict[Target, frozenset[str]] = {
    Target.MLENGINE: frozenset({"name", "uri"}),
    Target.VERTEX: frozenset({"resource", "publisher", "ref"}),
    Target.GENAI: frozenset({"publisher", "resource", "ref"}),
    Target.LOCAL: frozenset({"local", "ref"}),
    Target.RAY: frozenset({"local", "ref"}),
}

WHY_FORMAT = {
    (Target.MLENGINE, "input", F.CSV): "ML Engine writes CSV but never reads it",
    (Target.MLENGINE, "output", F.TF_RECORD): "TF_RECORD is input-only on ML Engine",
    (Target.MLENGINE, "output", F.TF_RECORD_GZIP): "TF_RECORD_GZIP is input-only on ML Engine",
    (Target.MLENGINE, "input", F.BIGQUERY): "ML Engine reads only Cloud Storage files",
}
