"""google-genai `client.batches.create(model=, src=, config=)`, on Vertex AI or
the Gemini Developer API.

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

With `genai.api: gemini` the same call goes to the Gemini Developer API
(`genai.Client(api_key=...)`, the key read from the environment when the call
is made, never written anywhere): `src` is the list of inline requests or
`{"file_name": "files/ID"}`, `model` is `models/M`, and there is no `dest`
(results come back in the batch job) and no labels (the API has none; see
`batchspec.compile.identity` for where batchspec's fingerprint goes instead).

`wire_body` repeats the SDK's own translation into the Vertex REST request
(`v1beta1 projects.locations.batchPredictionJobs.create`), so the request the
SDK sends can be checked against the discovery document like the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from batchspec.compile.vertex import display_name, model_name
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.validate.rules.core import gemini_api

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


def gemini_model(name: str) -> str:
    """The Gemini Developer API's model name, as google-genai's `t_model` makes it."""
    return name if name.startswith(("models/", "tunedModels/")) else f"models/{name}"


def gemini_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """batches.create's arguments for the Gemini Developer API."""
    inp = doc.spec.input
    assert doc.spec.model.publisher is not None, "validated specs name the model"
    src: list[dict[str, Any]] | dict[str, Any]
    if inp.requests is not None:
        src = [dict(request) for request in inp.requests]
    else:
        src = {"file_name": inp.file_name}
    return {
        "model": gemini_model(doc.spec.model.publisher),
        "src": src,
        "config": {"display_name": display_name(doc)},
    }


def genai_body(doc: BatchPredictionJobSpec) -> dict[str, Any]:
    """The keyword arguments of batches.create, with only the user's labels."""
    if gemini_api(doc):
        return gemini_body(doc)
    config: dict[str, Any] = {"display_name": display_name(doc), "dest": destination(doc)}
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
