"""Format compatibility: which formats each service reads and writes, which
model families take which formats, and which instance settings and
explanations work with which formats.

The instance settings follow the field documentation of Vertex AI's
`BatchPredictionJob.InstanceConfig`; the explanation settings follow
`generateExplanation` and `explanationSpec`. The local engines have their
own, narrower rule for keys (a record must have fields to pick one from).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from batchspec.diagnostics import Diagnostic
from batchspec.model.enums import DataFormat, Target
from batchspec.validate import targets
from batchspec.validate.rules.core import (
    ENGINES,
    GENAI,
    MLENGINE,
    VERTEX,
    Rule,
    applies,
    on_vertex_service,
    rule,
    target_of,
)
from batchspec.validate.rules.models import publisher_model

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

F: Final = DataFormat
TF: Final = (F.TF_RECORD, F.TF_RECORD_GZIP)

FORMAT_RULES: Final[dict[Target, Rule]] = {
    Target.VERTEX: rule(
        "vertex-formats",
        "BS220",
        (VERTEX,),
        "Vertex reads jsonl, csv, tf-record, tf-record-gzip, file-list, bigquery and writes"
        " jsonl, csv, bigquery",
        "aiplatform v1 InputConfig.instances_format, OutputConfig.predictions_format;"
        " https://cloud.google.com/vertex-ai/docs/predictions/get-batch-predictions",
    ),
    Target.MLENGINE: rule(
        "mlengine-formats",
        "BS220",
        (MLENGINE,),
        "ML Engine reads JSON, TEXT, TF_RECORD, TF_RECORD_GZIP and writes JSON, CSV",
        "ml v1 PredictionInput.dataFormat, outputDataFormat (DataFormat enum)",
    ),
    Target.GENAI: rule(
        "genai-formats",
        "BS220",
        (GENAI,),
        "google-genai reads gs:// JSONL or a bq:// table and writes JSONL or BigQuery",
        "google-genai types.BatchJobSource.format, t_batch_job_source, t_batch_job_destination",
    ),
    Target.LOCAL: rule(
        "local-formats",
        "BS220",
        ENGINES,
        "The local engine reads every format and writes JSONL, CSV, BigQuery; Ray writes"
        " JSONL, CSV",
        "batchspec local engine (engine/formats.py)",
    ),
}
FORMAT_RULES[Target.RAY] = FORMAT_RULES[Target.LOCAL]

PUBLISHER_FORMATS: Final = rule(
    "publisher-model-formats",
    "BS221",
    (VERTEX, GENAI),
    "Publisher models (Gemini, partner models) read JSONL from Cloud Storage or a BigQuery"
    " table and write JSONL or BigQuery",
    "https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/batch-prediction-api;"
    " https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/llama-batch",
)
GEMINI_ONE_FILE: Final = rule(
    "gemini-one-file",
    "BS221",
    (VERTEX, GENAI),
    "Gemini batch jobs read one JSONL file from Cloud Storage (a wildcard is warned about)",
    "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/"
    "batch-prediction-from-cloud-storage",
)
KEY_FIELD: Final = rule(
    "vertex-key-field",
    "BS233",
    (VERTEX,),
    "keyField works with JSONL (objects), CSV, BigQuery and TFRecord input",
    "aiplatform v1 InstanceConfig.key_field",
)
FIELD_LISTS: Final = rule(
    "vertex-field-lists",
    "BS233",
    (VERTEX,),
    "includedFields or excludedFields (not both), with JSONL (objects), BigQuery or TFRecord input",
    "aiplatform v1 InstanceConfig.included_fields, excluded_fields",
)
INSTANCE_TYPE: Final = rule(
    "vertex-instance-type",
    "BS233",
    (VERTEX,),
    "Warning: instanceType applies to JSONL and BigQuery input only; `array` with JSONL"
    " objects needs includedFields for the order",
    "aiplatform v1 InstanceConfig.instance_type",
)
ENGINE_KEYS: Final = rule(
    "engine-key-field",
    "BS233",
    ENGINES,
    "keyField needs records with fields: not TEXT, FILE_LIST or TFRecord read as b64;"
    " one of includedFields/excludedFields; tfRecordDecode only for TFRecord",
    "batchspec local engine (engine/instances.py)",
)
EXPLAIN_CSV: Final = rule(
    "explanation-output-format",
    "BS257",
    (VERTEX,),
    "generateExplanation writes JSONL or BigQuery, not CSV",
    'aiplatform v1 BatchPredictionJob.generate_explanation ("csv: Generating explanations'
    ' for CSV format is not supported")',
)
EXPLAIN_SPEC: Final = rule(
    "explanation-spec-needs-flag",
    "BS257",
    (VERTEX,),
    "explanationSpec only with generateExplanation: true; at most one attribution method",
    "aiplatform v1 BatchPredictionJob.explanation_spec; ExplanationParameters (oneof method)",
)
EXPLAIN_MODEL: Final = rule(
    "explanation-model",
    "BS257",
    (VERTEX,),
    "Explanations come from custom-trained and AutoML Model resources, not publisher models",
    "https://cloud.google.com/vertex-ai/docs/explainable-ai/getting-explanations",
)
_METHODS: Final = (
    "sampledShapleyAttribution",
    "integratedGradientsAttribution",
    "xraiAttribution",
    "examples",
)
PARAMETER_KEYS: Final = frozenset({*_METHODS, "topK", "outputIndices"})
METADATA_KEYS: Final = frozenset(
    {"inputs", "outputs", "featureAttributionsSchemaUri", "latentSpaceSource"}
)


def formats(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Formats per target and direction (CSV output-only on ML Engine, ...)."""
    spec = doc.spec
    target = spec.target
    if (
        spec.input.format in targets.INPUT_FORMATS[target]
        and spec.output.format in targets.OUTPUT_FORMATS[target]
    ):
        return  # both formats the target's: most specs
    cited = FORMAT_RULES[target]
    for direction, fmt, table in (
        ("input", spec.input.format, targets.INPUT_FORMATS),
        ("output", spec.output.format, targets.OUTPUT_FORMATS),
    ):
        allowed = table[target]
        if fmt in allowed:
            continue
        why = targets.WHY_FORMAT.get((target, direction, fmt))
        yield cited.error(
            f"{target.value} cannot {'read' if direction == 'input' else 'write'}"
            f" {fmt.value}" + (f": {why}" if why else ""),
            ("spec", direction, "format"),
            hint="supported: " + ", ".join(sorted(f.value for f in allowed)),
        )


_PUBLISHER_FORMATS: Final = (F.JSONL, F.BIGQUERY)  # members read once: a lookup on the enum is slow


def model_family_formats(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Publisher models take JSONL or BigQuery; Gemini reads one file."""
    value = doc.spec.model.publisher
    if value is None or not on_vertex_service(doc):
        return
    publisher = publisher_model(value)
    if publisher is None:
        return
    inp, out = doc.spec.input, doc.spec.output
    if inp.format not in _PUBLISHER_FORMATS or out.format not in _PUBLISHER_FORMATS:
        for direction, fmt in (("input", inp.format), ("output", out.format)):
            if fmt not in _PUBLISHER_FORMATS and target_of(doc) == VERTEX:
                yield PUBLISHER_FORMATS.error(
                    f"publisher model {publisher.name} cannot "
                    f"{'read' if direction == 'input' else 'write'} {fmt.value}",
                    ("spec", direction, "format"),
                    hint="publisher models take JSONL or BIGQUERY",
                )
    if not publisher.gemini:
        return
    paths = inp.paths or []
    if len(paths) > 1:
        yield GEMINI_ONE_FILE.error(
            f"Gemini batch jobs read one JSONL file; {len(paths)} paths given",
            ("spec", "input", "paths"),
            hint="combine the requests into one JSONL file, or use a BigQuery table",
        )
    elif paths and ("*" in paths[0] or "?" in paths[0] or "[" in paths[0]):
        yield GEMINI_ONE_FILE.warning(
            "Gemini batch jobs read one JSONL file; a wildcard may match several",
            ("spec", "input", "paths", 0),
        )


# Members read once (a lookup on the enum is slow): what each instance setting works with.
_KEYED: Final = (F.JSONL, F.CSV, F.BIGQUERY, *TF)
_FIELDED: Final = (F.JSONL, F.BIGQUERY, *TF)
_TYPED: Final = (F.JSONL, F.BIGQUERY)


def vertex_instances(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """InstanceConfig's documented format requirements."""
    if not applies(KEY_FIELD, doc):
        return
    inp, base = doc.spec.input, ("spec", "input")
    fmt, included, excluded = inp.format, inp.included_fields, inp.excluded_fields
    if inp.key_field and fmt not in _KEYED:
        yield KEY_FIELD.error(
            f"keyField works with JSONL, CSV, BigQuery or TFRecord input, not {fmt.value}",
            (*base, "keyField"),
        )
    if included and excluded:
        yield FIELD_LISTS.error(
            "give `includedFields` or `excludedFields`, not both", (*base, "excludedFields")
        )
    if (included or excluded) and fmt not in _FIELDED:
        for key, value in (("includedFields", included), ("excludedFields", excluded)):
            if value:
                yield FIELD_LISTS.error(
                    f"{key} works with JSONL, BigQuery or TFRecord input, not {fmt.value}",
                    (*base, key),
                )
    instance_type = inp.instance_type
    if instance_type is None:
        return
    if fmt not in _TYPED:
        yield INSTANCE_TYPE.warning(
            f"instanceType does not apply to {fmt.value} input; Vertex AI ignores it",
            (*base, "instanceType"),
        )
    elif instance_type == "array" and fmt is F.JSONL and not included:
        yield INSTANCE_TYPE.warning(
            "instanceType: array with JSONL objects needs includedFields to fix the order",
            (*base, "instanceType"),
            hint="list the fields in includedFields (or ignore this for JSONL arrays)",
        )


def engine_instances(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The local engines' own key and field rules."""
    if not applies(ENGINE_KEYS, doc):
        return
    inp, base = doc.spec.input, ("spec", "input")
    if inp.included_fields and inp.excluded_fields:
        yield ENGINE_KEYS.error(
            "give `includedFields` or `excludedFields`, not both", (*base, "excludedFields")
        )
    fieldless = (F.TEXT, F.FILE_LIST)
    if inp.key_field and (
        inp.format in fieldless or (inp.format in TF and inp.tf_record_decode == "b64")
    ):
        yield ENGINE_KEYS.error(
            f"{inp.format.value} instances have no fields, so `keyField` cannot pick one",
            (*base, "keyField"),
            hint="use JSONL, CSV or BIGQUERY, or tfRecordDecode: example",
        )
    if inp.tf_record_decode == "example" and inp.format not in TF:
        yield ENGINE_KEYS.warning("tfRecordDecode applies to TF_RECORD input only", base)


def explanations(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """generateExplanation and explanationSpec, as Vertex documents them."""
    if not applies(EXPLAIN_CSV, doc):
        return
    spec = doc.spec
    if spec.generate_explanation and spec.output.format is F.CSV:
        yield EXPLAIN_CSV.error(
            "explanations cannot be written as CSV",
            ("spec", "output", "format"),
            hint="write JSONL or BIGQUERY",
        )
    if spec.generate_explanation and spec.model.publisher is not None:
        yield EXPLAIN_MODEL.error(
            "publisher models do not produce explanations",
            ("spec", "generateExplanation"),
            hint="explanations need a custom-trained or AutoML Model resource",
        )
    explanation = spec.explanation_spec
    if explanation is None:
        return
    base = ("spec", "explanationSpec")
    if not spec.generate_explanation:
        yield EXPLAIN_SPEC.error(
            "explanationSpec needs generateExplanation: true",
            base,
            hint="add generateExplanation: true, or remove explanationSpec",
        )
    methods = [k for k in explanation.parameters if k in _METHODS]
    if len(methods) > 1:
        yield EXPLAIN_SPEC.error(
            "choose one attribution method: " + ", ".join(methods), (*base, "parameters")
        )
    for key in sorted(set(explanation.parameters) - PARAMETER_KEYS):
        yield EXPLAIN_SPEC.error(
            f"ExplanationParameters has no field `{key}`",
            (*base, "parameters", key),
            hint="one of " + ", ".join(sorted(PARAMETER_KEYS)),
        )
    for key in sorted(set(explanation.metadata or {}) - METADATA_KEYS):
        yield EXPLAIN_SPEC.error(
            f"ExplanationMetadata has no field `{key}`",
            (*base, "metadata", key),
            hint="one of " + ", ".join(sorted(METADATA_KEYS)),
        )


__all__ = [
    "FORMAT_RULES",
    "METADATA_KEYS",
    "PARAMETER_KEYS",
    "engine_instances",
    "explanations",
    "formats",
    "model_family_formats",
    "vertex_instances",
]
