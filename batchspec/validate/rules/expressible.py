"""Settings a target's request has no field for (BS301), and settings its
service ignores (BS253).

Dropping a setting that changes *what* runs (which fields reach the model,
who runs it, how its output is encrypted) is an error; dropping one that
only tunes *how* it runs is a warning. `batchspec.compile.prepare` runs these
against the effective spec (the requested target), and `batchspec validate`
against the spec as written, so both say the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from batchspec.diagnostics import Diagnostic, DocPath
from batchspec.model.enums import Severity, Target
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.validate.rules.core import (
    ENGINES,
    GENAI,
    MLENGINE,
    VERTEX,
    Rule,
    gemini_api,
    is_set,
    rule,
)

CARRY: dict[str, Rule] = {
    VERTEX: rule(
        "vertex-fields",
        "BS301",
        (VERTEX,),
        "What a Vertex BatchPredictionJob has no field for (maxWorkerCount, inline requests,"
        " overwrite, ray, genai)",
        "aiplatform v1 BatchPredictionJob",
    ),
    MLENGINE: rule(
        "mlengine-fields",
        "BS301",
        (MLENGINE,),
        "What an ML Engine prediction job has no field for (instance selection, service"
        " account, encryption key, explanations, model parameters, replicas, display name)",
        "ml v1 Job, PredictionInput",
    ),
    GENAI: rule(
        "genai-fields",
        "BS301",
        (GENAI,),
        "What batches.create has no argument for (instance selection, service account,"
        " encryption key, explanations, model parameters, resources); the Gemini Developer"
        " API also takes no project or region",
        "google-genai types.CreateBatchJobConfig, BatchJobSource",
    ),
    "engines": rule(
        "engine-fields",
        "BS301",
        ENGINES,
        "What the local engines do not use (the ray block outside target ray, inline requests)",
        "batchspec local engine",
    ),
}
IGNORED = rule(
    "ignored-settings",
    "BS253",
    (VERTEX, GENAI, MLENGINE),
    "Warnings: runtimeVersion and signatureName are ML Engine's; runtimeVersion is ignored"
    " for deployed model versions; ML Engine and google-genai ignore machineType and"
    " accelerators",
    "https://cloud.google.com/ai-platform/prediction/docs/batch-predict;"
    " ml v1 PredictionInput.runtimeVersion, signatureName",
)


@dataclass(frozen=True)
class _Setting:
    path: DocPath
    label: str
    value: Any


def _explicit(model: object, field: str, value: Any) -> Any:
    return value if is_set(model, field) else None


def _settings(doc: BatchPredictionJobSpec) -> dict[str, _Setting]:
    spec, inp, res = doc.spec, doc.spec.input, doc.spec.resources
    base_in, base_res = ("spec", "input"), ("spec", "resources")
    items = [
        _Setting((*base_in, "keyField"), "keyField", inp.key_field),
        _Setting((*base_in, "includedFields"), "includedFields", inp.included_fields),
        _Setting((*base_in, "excludedFields"), "excludedFields", inp.excluded_fields),
        _Setting((*base_in, "instanceType"), "instanceType", inp.instance_type),
        _Setting(
            (*base_in, "tfRecordDecode"),
            "tfRecordDecode: example",
            "example" if inp.tf_record_decode == "example" else None,
        ),
        _Setting((*base_in, "requests"), "requests", inp.requests),
        _Setting((*base_in, "fileName"), "fileName", inp.file_name),
        _Setting(("spec", "serviceAccount"), "serviceAccount", spec.service_account),
        _Setting(("spec", "encryptionKeyName"), "encryptionKeyName", spec.encryption_key_name),
        _Setting(
            ("spec", "generateExplanation"),
            "generateExplanation",
            True if spec.generate_explanation else None,
        ),
        _Setting(("spec", "explanationSpec"), "explanationSpec", spec.explanation_spec),
        _Setting(
            ("spec", "disableContainerLogging"),
            "disableContainerLogging",
            True if spec.disable_container_logging else None,
        ),
        _Setting(("spec", "modelParameters"), "modelParameters", spec.model_parameters),
        _Setting(("metadata", "displayName"), "displayName", doc.metadata.display_name),
        _Setting((*base_res, "replicaCount"), "replicaCount", res.replica_count),
        _Setting((*base_res, "maxReplicaCount"), "maxReplicaCount", res.max_replica_count),
        _Setting(
            (*base_res, "maxWorkerCount"),
            "maxWorkerCount",
            _explicit(res, "max_worker_count", res.max_worker_count),
        ),
        _Setting(
            (*base_res, "batchSize"), "batchSize", _explicit(res, "batch_size", res.batch_size)
        ),
        _Setting(
            ("spec", "output", "overwrite"),
            "overwrite",
            True if doc.spec.output.overwrite else None,
        ),
        _Setting(("spec", "ray"), "ray", spec.ray),
        _Setting(("spec", "genai"), "genai", spec.genai),
        _Setting(("spec", "project"), "project", spec.project),
        _Setting(("spec", "region"), "region", spec.region),
    ]
    return {s.label: s for s in items}


# Per target: settings that change *what* runs (dropping them is an error) and
# settings that only tune *how* it runs (dropping them is a warning).
_WHAT = ("keyField", "includedFields", "excludedFields", "instanceType", "tfRecordDecode: example")
_SECURITY = ("serviceAccount", "encryptionKeyName")
_VERTEX_ONLY = ("generateExplanation", "explanationSpec", "modelParameters")
_INLINE = ("requests", "fileName")
_GENAI_HOW = ("maxWorkerCount", "batchSize", "replicaCount", "maxReplicaCount", "overwrite", "ray")
_DROPPED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    MLENGINE: (
        _WHAT + _SECURITY + _VERTEX_ONLY + _INLINE,
        (
            "replicaCount",
            "maxReplicaCount",
            "overwrite",
            "ray",
            "genai",
            "displayName",
            "disableContainerLogging",
        ),
    ),
    VERTEX: (
        ("tfRecordDecode: example", *_INLINE),
        ("maxWorkerCount", "overwrite", "ray", "genai"),
    ),
    GENAI: (
        _WHAT + _SECURITY + _VERTEX_ONLY + _INLINE,
        (*_GENAI_HOW, "disableContainerLogging"),
    ),
    "gemini": (
        _WHAT + _SECURITY + _VERTEX_ONLY,
        (*_GENAI_HOW, "disableContainerLogging", "project", "region"),
    ),
    Target.LOCAL.value: (_INLINE, ("ray", "genai")),
    Target.RAY.value: (_INLINE, ("genai",)),
}
_NO_RESOURCES = "google-genai batch jobs take no resource settings"
_RESOURCE_KEYS = ("maxWorkerCount", "batchSize", "replicaCount", "maxReplicaCount")
_WHY: dict[tuple[str | None, str], str] = {
    (None, "tfRecordDecode: example"): 'the service always sends TFRecord payloads as {"b64": ...}',
    (None, "overwrite"): "the service writes every run into a new folder; overwrite is for"
    " the local engine",
    (VERTEX, "maxWorkerCount"): "Vertex sizes jobs by replicaCount on a machineType",
    **{
        (GENAI, k): _NO_RESOURCES
        for k in ("maxWorkerCount", "batchSize", "replicaCount", "maxReplicaCount")
    },
    **{
        ("gemini", k): _NO_RESOURCES
        for k in ("maxWorkerCount", "batchSize", "replicaCount", "maxReplicaCount")
    },
    (MLENGINE, "overwrite"): "ML Engine has no such setting; clear the output path before the run",
    (None, "ray"): "the `ray` block configures target ray only",
    (None, "genai"): "the `genai` block configures target genai only",
    (MLENGINE, "replicaCount"): "ML Engine scales workers up to maxWorkerCount",
    (MLENGINE, "maxReplicaCount"): "ML Engine scales workers up to maxWorkerCount",
    (MLENGINE, "displayName"): "ML Engine jobs have only an id (made from `name`)",
    (None, "requests"): "inline requests go to the Gemini Developer API only (genai.api: gemini)",
    (None, "fileName"): "a Files API file is read by the Gemini Developer API only"
    " (genai.api: gemini)",
    (None, "disableContainerLogging"): "only Vertex AI containers log to Cloud Logging",
    ("gemini", "project"): "the Gemini Developer API is reached with an API key, not a project",
    ("gemini", "region"): "the Gemini Developer API has no regions",
}


def _service(doc: BatchPredictionJobSpec) -> str:
    return "gemini" if gemini_api(doc) else doc.spec.target.value


def unsupported_settings(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """BS301: settings the target's request has no field for."""
    target, service = doc.spec.target, _service(doc)
    cited = CARRY.get(target.value, CARRY["engines"])
    errors, warnings = _DROPPED.get(service, ((), ()))
    settings = _settings(doc)
    for names_, severity in ((errors, Severity.ERROR), (warnings, Severity.WARNING)):
        for name in names_:
            setting = settings[name]
            if setting.value is None:
                continue
            why = _WHY.get((service, name)) or _WHY.get((None, name))
            verb = "cannot carry" if severity is Severity.ERROR else "ignores"
            hint = "remove it, or use target: vertex" if severity is Severity.ERROR else None
            if target is Target.VERTEX or name in ("overwrite", *_INLINE):
                hint = "remove it" if severity is Severity.ERROR else None
            message = f"{target.value} {verb} `{name}`" + (f": {why}" if why else "")
            if severity is Severity.ERROR:
                yield cited.error(message, setting.path, hint)
            else:
                yield cited.warning(message, setting.path, hint)


def ignored_settings(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Settings the target's service ignores (ML Engine's documentation: omit runtimeVersion for
    deployed model versions)."""
    spec, target = doc.spec, doc.spec.target
    if spec.runtime_version is not None:
        if target is not Target.MLENGINE:
            yield IGNORED.warning(
                f"runtimeVersion is an ML Engine setting; {target.value} ignores it",
                ("spec", "runtimeVersion"),
            )
        elif spec.model.name is not None:
            yield IGNORED.warning(
                "runtimeVersion with a deployed model: the service uses the version the"
                " model was deployed with",
                ("spec", "runtimeVersion"),
                hint="omit runtimeVersion unless the model is given by `uri`",
            )
    if spec.signature_name is not None and target is not Target.MLENGINE:
        yield IGNORED.warning(
            f"signatureName is an ML Engine setting; {target.value} ignores it",
            ("spec", "signatureName"),
        )
    if target in (Target.MLENGINE, Target.GENAI):
        res = spec.resources
        ignored = {"machineType": res.machine_type, "accelerator": res.accelerator}
        for key in (k for k, v in ignored.items() if v is not None):
            yield IGNORED.warning(f"{target.value} ignores {key}", ("spec", "resources", key))


__all__ = ["ignored_settings", "unsupported_settings"]
