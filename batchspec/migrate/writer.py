"""Write imported jobs as v1 spec YAML, with comments saying where they came from.

The document is built as ruamel.yaml round-trip data (CommentedMap), so the
header and the notes are real YAML comments that survive later edits with
any round-trip tool. Only values the source gave are written: a service
default the source left out stays out, and the spec model's default (the
same value) fills it in when compiling.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

from batchspec.migrate.fields import JobFields, SourceKind
from batchspec.model.spec import API_VERSION, KIND

# ML Engine dataFormat / outputDataFormat -> batchspec format
INPUT_FORMATS = {
    "JSON": "JSONL",
    "TEXT": "TEXT",
    "TF_RECORD": "TF_RECORD",
    "TF_RECORD_GZIP": "TF_RECORD_GZIP",
}
OUTPUT_FORMATS = {"JSON": "JSONL", "CSV": "CSV"}
SHUTDOWN_NOTE = """\
Cloud ML Engine was shut down on 2025-01-31. This spec still compiles to the
legacy projects.jobs body (`batchspec render`); to run the job, move it to
Vertex AI: upload the model to the Vertex Model Registry, then set
`target: vertex`, `model.resource: projects/P/locations/R/models/ID`,
`resources.machineType` and, for TEXT input, `format: JSONL`."""
_WIDTH = 86


def spec_data(fields: JobFields) -> dict[str, Any]:
    """The spec document as plain data (what the validator reads)."""
    metadata: dict[str, Any] = {"name": fields.name}
    if fields.labels:
        metadata["labels"] = dict(fields.labels)
    spec: dict[str, Any] = {"target": "mlengine"}
    if fields.project:
        spec["project"] = fields.project
    spec["region"] = fields.region
    model: dict[str, Any] = {}
    if fields.uri is not None:
        model["uri"] = fields.uri
    else:
        model["name"] = fields.model
        if fields.version is not None:
            model["version"] = fields.version
    spec["model"] = model
    spec["input"] = {
        "format": INPUT_FORMATS.get(fields.data_format, fields.data_format),
        "paths": list(fields.input_paths),
    }
    output: dict[str, Any] = {"path": fields.output_path}
    out_format = OUTPUT_FORMATS.get(fields.output_data_format or "JSON", "JSONL")
    if out_format != "JSONL":
        output["format"] = out_format
    spec["output"] = output
    resources: dict[str, Any] = {}
    if fields.max_worker_count is not None:
        resources["maxWorkerCount"] = fields.max_worker_count
    if fields.batch_size is not None:
        resources["batchSize"] = fields.batch_size
    if resources:
        spec["resources"] = resources
    if fields.runtime_version is not None:
        spec["runtimeVersion"] = fields.runtime_version
    if fields.signature_name is not None:
        spec["signatureName"] = fields.signature_name
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}


def header(kind: SourceKind, source: str, original: str | None) -> str:
    """The comment block at the top of an imported spec."""
    what = (
        "a `gcloud ... jobs submit prediction` command"
        if kind == "gcloud"
        else "an ML Engine projects.jobs body"
    )
    lines = [f"Imported by `batchspec import` from {source} ({what})."]
    if original:
        lines.append("The original command:")
        lines.extend(
            "  " + row
            for row in textwrap.wrap(
                " ".join(original.split()),
                _WIDTH - 4,
                break_long_words=False,
                break_on_hyphens=False,
                subsequent_indent="    ",
            )
        )
    lines.append("")
    lines.extend(SHUTDOWN_NOTE.splitlines())
    return "\n".join(lines)


def commented(
    data: dict[str, Any], *, header_text: str, notes: Sequence[str], project_known: bool
) -> Any:
    """`data` as ruamel round-trip data with the header, notes and hints."""
    doc = _commented(data)
    text = header_text
    if notes:
        wrapped = [
            row
            for note in notes
            for row in textwrap.wrap(
                "Note: " + note, _WIDTH, break_on_hyphens=False, subsequent_indent="  "
            )
        ]
        text += "\n\n" + "\n".join(wrapped)
    doc.yaml_set_start_comment(text)
    spec = doc["spec"]
    if not project_known:
        spec.yaml_set_comment_before_after_key(
            "region",
            before="project: the source does not say; add it here or set BATCHSPEC_PROJECT",
            indent=2,
        )
    if spec["input"]["format"] == "TEXT":
        spec["input"].yaml_add_eol_comment(
            "ML Engine deprecated TEXT for JSON (format: JSONL): the same lines", "format"
        )
    return doc


def _commented(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _commented(item)
        return out
    if isinstance(value, list):
        return CommentedSeq(_commented(v) for v in value)
    return value


def dump(documents: Sequence[Any]) -> str:
    """YAML text of one or more commented documents (`---` between them)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.explicit_start = len(documents) > 1
    stream = io.StringIO()
    if len(documents) == 1:
        yaml.dump(documents[0], stream)
    else:
        yaml.dump_all(list(documents), stream)
    return stream.getvalue()
