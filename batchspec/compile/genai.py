"""google-genai `client.batches.create(model=, src=, config=)` on Vertex AI.

The body is the call's keyword arguments as JSON-ready data; `config` holds
the fields of `google.genai.types.CreateBatchJobConfig` by their Python names
(the SDK accepts it as a dict). Checked against google-genai 2.x:

* `CreateBatchJobConfig` has `display_name`, `dest`, `http_options`,
  `webhook_config` (Gemini API only) and no `labels`. batchspec's labels ride
  in `http_options.extra_body`, which the SDK merges into the request body
  unchanged; without them a backend could not find a job it already submitted.
* `src` as a plain list means *inlined requests* to the SDK, not a list of
  files. One file is the `gs://` string (the SDK reads it as jsonl); several
  files use the `BatchJobSource` mapping with `format` and `gcs_uri`.
* `dest` as a `gs://` string means jsonl; `bq://` means bigquery.

`wire_body` repeats the SDK's own translation into the Vertex REST request
(`v1beta1 projects.locations.batchPredictionJobs.create`), so the request the
SDK sends can be checked against the discovery document like the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from batchspec.compile.vertex import model_name
from batchspec.model.spec import BatchPredictionJobSpec

API, VERSION = "aiplatform", "v1beta1"
METHOD = "aiplatform.projects.locations.batchPredictionJobs.create"
CALL = "google.genai.Client(vertexai=True).batches.create"


def parent(project: str, region: str) -> str:
    """The location the client is created for: `projects/P/locations/R`."""
    return f"projects/{project}/locations/{region}"


def source(doc: BatchPredictionJobSpec) -> str | dict[str, Any]:
    """`src`: a bq:// table, one gs:// file, or a BatchJobSource for several."""
    inp = doc.spec.input
    if inp.bigquery is not None:
        return inp.bigquery
    paths = list(inp.paths or ())
    if len(paths) == 1:
        return paths[0]
    return {"format": "jsonl", "gcs_uri": paths}


def destination(doc: BatchPredictionJobSpec) -> str:
    """`config.dest`: a gs:// folder or a bq:// project or dataset."""
    out = doc.spec.output
    dest = out.bigquery if out.bigquery is not None else out.path
    assert dest is not None, "validated specs have one output"
    return dest


def genai_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The keyword arguments of batches.create, with only the user's labels."""
    config: dict[str, Any] = {"display_name": doc.metadata.name, "dest": destination(doc)}
    if doc.metadata.labels:
        config["http_options"] = {"extra_body": {"labels": dict(doc.metadata.labels)}}
    return {"model": model_name(doc.spec.model), "src": source(doc), "config": config}


def wire_body(args: Mapping[str, Any]) -> dict[str, Any]:
    """The Vertex REST body google-genai sends for these arguments."""
    src = args["src"]
    if isinstance(src, str) and src.startswith("bq://"):
        inputs: dict[str, Any] = {
            "instancesFormat": "bigquery",
            "bigquerySource": {"inputUri": src},
        }
    elif isinstance(src, str):
        inputs = {"instancesFormat": "jsonl", "gcsSource": {"uris": [src]}}
    else:
        inputs = {"instancesFormat": src["format"], "gcsSource": {"uris": list(src["gcs_uri"])}}
    config = args.get("config", {})
    dest = config["dest"]
    if dest.startswith("bq://"):
        outputs: dict[str, Any] = {
            "predictionsFormat": "bigquery",
            "bigqueryDestination": {"outputUri": dest},
        }
    else:
        outputs = {"predictionsFormat": "jsonl", "gcsDestination": {"outputUriPrefix": dest}}
    body: dict[str, Any] = {
        "model": args["model"],
        "inputConfig": inputs,
        "outputConfig": outputs,
    }
    if "display_name" in config:
        body["displayName"] = config["display_name"]
    body.update(config.get("http_options", {}).get("extra_body", {}))
    return body
