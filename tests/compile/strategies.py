"""Hypothesis strategies for valid spec documents, one per cloud target.

Each strategy builds plain YAML-like data that the validator accepts for its
target; `valid_spec` checks that promise (a failing assertion there is a bug in
the strategy, not in the code under test).
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.testing.specs import typed_spec
from batchspec.validate.targets import MLENGINE_REGIONS, VERTEX_REGIONS

LETTERS = string.ascii_letters
NAME_CHARS = string.ascii_letters + string.digits + "_"
# Machine types with the accelerators Compute Engine pairs them with (None:
# no accelerator), as batchspec.validate.machines lists them.
MACHINES: dict[str, list[tuple[str, int] | None]] = {
    "n1-standard-4": [
        None,
        ("NVIDIA_TESLA_T4", 1),
        ("NVIDIA_TESLA_T4", 4),
        ("NVIDIA_TESLA_V100", 1),
    ],
    "n1-highmem-8": [None, ("NVIDIA_TESLA_P4", 2), ("NVIDIA_TESLA_V100", 1)],
    "e2-standard-2": [None],
    "a2-highgpu-2g": [("NVIDIA_TESLA_A100", 1), ("NVIDIA_TESLA_A100", 2)],
    "a2-ultragpu-1g": [("NVIDIA_A100_80GB", 1)],
    "g2-standard-24": [("NVIDIA_L4", 2)],
}
RESERVED = {"managed-by", "batchspec-job", "batchspec-fp"}

job_names = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(LETTERS),
    st.text(NAME_CHARS, max_size=60) | st.text(NAME_CHARS, min_size=100, max_size=127),
)
short_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True)
projects = st.from_regex(r"[a-z][a-z0-9-]{4,20}[a-z0-9]", fullmatch=True)
label_maps = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True).filter(lambda k: k not in RESERVED),
    st.from_regex(r"[a-z0-9_-]{0,15}", fullmatch=True),
    max_size=4,
)
_segment = st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True).filter(
    lambda s: s not in (".", "..")
)
buckets = st.from_regex(r"[a-z0-9][a-z0-9_-]{1,14}[a-z0-9]", fullmatch=True).filter(
    lambda b: not b.startswith("goog") and "google" not in b
)


@st.composite
def gcs_paths(draw: st.DrawFn, *, wildcard: bool = True) -> str:
    """gs://bucket/a/b with seed 001's wildcard forms in the last segment."""
    folders = draw(st.lists(_segment, max_size=3))
    last = draw(_segment)
    if wildcard:
        last = draw(st.sampled_from([last, last + "*", "*"]))
    return "gs://" + draw(buckets) + "/" + "/".join([*folders, last])


@st.composite
def gcs_folders(draw: st.DrawFn) -> str:
    folders = draw(st.lists(_segment, max_size=3))
    return "gs://" + draw(buckets) + "/" + "".join(f + "/" for f in folders)


bq_tables = st.builds(
    lambda p, d, t: f"bq://{p}.{d}.{t}",
    projects,
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True),
)
bq_destinations = st.builds(
    lambda p, d: f"bq://{p}" + (f".{d}" if d else ""),
    projects,
    st.none() | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _document(name: str, labels: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {
        "apiVersion": "batchspec.dev/v1",
        "kind": "BatchPredictionJob",
        "metadata": metadata,
        "spec": spec,
    }


@st.composite
def mlengine_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Valid ML Engine specs: model by name, name+version or uri; every format."""
    way = draw(st.sampled_from(["name", "version", "uri"]))
    model: dict[str, Any]
    if way == "uri":
        model = {"uri": draw(gcs_folders())}
    else:
        model = {"name": draw(short_names)}
        if way == "version":
            model["version"] = draw(short_names)
    spec: dict[str, Any] = {
        "target": "mlengine",
        "project": draw(projects),
        "region": draw(st.sampled_from(sorted(MLENGINE_REGIONS))),
        "model": model,
        "input": {
            "format": draw(st.sampled_from(["JSONL", "TEXT", "TF_RECORD", "TF_RECORD_GZIP"])),
            "paths": draw(st.lists(gcs_paths(), min_size=1, max_size=4)),
        },
        "output": {"path": draw(gcs_folders())},
    }
    out_format = draw(st.sampled_from([None, "JSONL", "CSV"]))
    if out_format:
        spec["output"]["format"] = out_format
    resources: dict[str, Any] = {}
    if draw(st.booleans()):
        resources["maxWorkerCount"] = draw(st.integers(1, 1000))
    if draw(st.booleans()):
        resources["batchSize"] = draw(st.integers(1, 10_000))
    if resources:
        spec["resources"] = resources
    if way == "uri" and draw(st.booleans()):
        spec["runtimeVersion"] = draw(st.from_regex(r"[12]\.[0-9]{1,2}", fullmatch=True))
    if draw(st.booleans()):
        spec["signatureName"] = draw(short_names)
    return _document(draw(job_names), draw(label_maps), spec)


@st.composite
def vertex_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Valid Vertex specs over every input and output form and resource shape."""
    project = draw(projects)
    region = draw(st.sampled_from(sorted(VERTEX_REGIONS)))
    publisher = draw(st.booleans())
    if not publisher:
        region = draw(st.sampled_from(sorted(VERTEX_REGIONS - {"global"})))
        version = draw(st.sampled_from(["", "@1", "@golden"]))
        digits = draw(st.from_regex(r"[1-9][0-9]{3,18}", fullmatch=True))
        model: dict[str, Any] = {
            "resource": f"projects/{project}/locations/{region}/models/{digits}{version}"
        }
        formats = ["JSONL", "CSV", "TF_RECORD", "TF_RECORD_GZIP", "FILE_LIST", "BIGQUERY"]
    else:
        short = draw(st.from_regex(r"gemini-[0-9a-z-]{1,12}", fullmatch=True))
        model = {"publisher": draw(st.sampled_from([short, f"publishers/google/models/{short}"]))}
        formats = ["JSONL", "BIGQUERY"]  # publisher models; Gemini reads one file
    fmt = draw(st.sampled_from(formats))
    inp: dict[str, Any] = {"format": fmt}
    if fmt == "BIGQUERY":
        inp["bigquery"] = draw(bq_tables)
    elif publisher:
        inp["paths"] = [draw(gcs_paths(wildcard=False))]
    else:
        inp["paths"] = draw(st.lists(gcs_paths(), min_size=1, max_size=3))
    if fmt in ("JSONL", "CSV", "BIGQUERY"):
        if draw(st.booleans()):
            inp["keyField"] = draw(short_names)
        fields = st.lists(short_names, min_size=1, max_size=3)
        choice = draw(st.sampled_from([None, "includedFields", "excludedFields"]))
        if choice and fmt != "CSV":
            inp[choice] = draw(fields)
        if fmt != "CSV" and draw(st.booleans()):
            inp["instanceType"] = draw(st.sampled_from(["object", "array"]))
    out: dict[str, Any]
    if draw(st.booleans()):
        out = {"bigquery": draw(bq_destinations), "format": "BIGQUERY"}
    else:
        out_formats = ["JSONL"] if publisher else ["JSONL", "CSV"]
        out = {"path": draw(gcs_folders()), "format": draw(st.sampled_from(out_formats))}
    spec: dict[str, Any] = {
        "target": "vertex",
        "project": project,
        "region": region,
        "model": model,
        "input": inp,
        "output": out,
    }
    if not publisher and draw(st.booleans()):
        machine = draw(st.sampled_from(sorted(MACHINES)))
        resources: dict[str, Any] = {"machineType": machine}
        accelerator = draw(st.sampled_from(MACHINES[machine]))
        if accelerator is not None:
            resources["accelerator"] = {"type": accelerator[0], "count": accelerator[1]}
        replicas = draw(st.none() | st.integers(1, 50))
        if replicas is not None:
            resources["replicaCount"] = replicas
        if draw(st.booleans()):
            resources["maxReplicaCount"] = draw(st.integers(replicas or 1, 100))
        if draw(st.booleans()):
            resources["batchSize"] = draw(st.integers(1, 4096))
        spec["resources"] = resources
    if draw(st.booleans()):
        spec["serviceAccount"] = draw(short_names).lower() + f"@{project}.iam.gserviceaccount.com"
    if draw(st.booleans()):
        spec["encryptionKeyName"] = (
            f"projects/{project}/locations/{region}/keyRings/k/cryptoKeys/{draw(short_names)}"
        )
    if not publisher and out["format"] != "CSV" and draw(st.booleans()):
        spec["generateExplanation"] = draw(st.booleans())
    if draw(st.booleans()):
        spec["modelParameters"] = draw(
            st.dictionaries(
                st.text(string.ascii_letters, min_size=1, max_size=8), json_values, max_size=3
            )
        )
    if draw(st.booleans()):
        spec["disableContainerLogging"] = True
    metadata_name = draw(job_names)
    document = _document(metadata_name, draw(label_maps), spec)
    if draw(st.booleans()):
        document["metadata"]["displayName"] = draw(
            st.text(min_size=1, max_size=128).filter(str.strip)
        )
    return document


@st.composite
def genai_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Valid google-genai specs: publisher models, gs:// JSONL or bq:// in and out."""
    publisher = draw(st.sampled_from(["google", "anthropic", "meta"]))
    model = f"publishers/{publisher}/models/" + draw(
        st.from_regex(r"[a-z][a-z0-9.-]{1,15}[a-z0-9]", fullmatch=True).filter(
            lambda m: ".." not in m and not m.startswith("gemini")
        )
    )
    inp: dict[str, Any]
    if draw(st.booleans()):
        inp = {"format": "BIGQUERY", "bigquery": draw(bq_tables)}
    else:
        inp = {"format": "JSONL", "paths": draw(st.lists(gcs_paths(), min_size=1, max_size=3))}
    out: dict[str, Any]
    if draw(st.booleans()):
        out = {"bigquery": draw(bq_destinations), "format": "BIGQUERY"}
    else:
        out = {"path": draw(gcs_folders())}
    spec = {
        "target": "genai",
        "project": draw(projects),
        "region": draw(st.sampled_from(sorted(VERTEX_REGIONS))),
        "model": {"publisher": model},
        "input": inp,
        "output": out,
    }
    return _document(draw(job_names), draw(label_maps), spec)


any_cloud_documents = mlengine_documents() | vertex_documents() | genai_documents()


def valid_spec(data: dict[str, Any]) -> BatchPredictionJobSpec:
    """The typed spec; fails loudly when a strategy made an invalid document."""
    return typed_spec(data)


def reversed_keys(value: Any) -> Any:
    """The same data with every mapping's insertion order reversed."""
    if isinstance(value, dict):
        return {k: reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value
