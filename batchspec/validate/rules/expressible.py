"""Settings a target's request has no field for (BS301), and settings its
service ignores (BS253).

Dropping a setting that changes *what* runs (which fields reach the model,
who runs it, how its output is encrypted) is an error; dropping one that
only tunes *how* it runs is a warning. `batchspec.compile.prepare` runs these
against the effective spec (the requested target), and `batchspec validate`
against the spec as written, so both say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

from batchspec.diagnostics import Diagnostic, DocPath
from batchspec.model.enums import Target
from batchspec.validate.rules.core import (
    ENGINES,
    GENAI,
    MLENGINE,
    VERTEX,
    Rule,
    gemini_api,
    is_set,
    rule,
    target_of,
)

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

CARRY: Final[dict[str, Rule]] = {
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
IGNORED: Final = rule(
    "ignored-settings",
    "BS253",
    (VERTEX, GENAI, MLENGINE),
    "Warnings: runtimeVersion and signatureName are ML Engine's; runtimeVersion is ignored"
    " for deployed model versions; ML Engine and google-genai ignore machineType and"
    " accelerators",
    "https://cloud.google.com/ai-platform/prediction/docs/batch-predict;"
    " ml v1 PredictionInput.runtimeVersion, signatureName",
)


_IN, _RES = ("spec", "input"), ("spec", "resources")


def _explicit(model: object, field: str) -> Any:
    return getattr(model, field) if is_set(model, field) else None


def _flag(value: bool) -> Any:
    return True if value else None


# How `_quiet` reads each setting: getter -> (attribute path, the value it
# has when the setting is not dropped, in most specs). Plain settings are
# quiet at None, flags at False; `_WRITTEN` settings (which have defaults)
# are quiet when not written.
_USUAL: Final[dict[object, tuple[str, object]]] = {}
_WRITTEN: Final[dict[object, str]] = {}


def _plain(path: str) -> Callable[[BatchPredictionJobSpec], Any]:
    getter = attrgetter(path)
    _USUAL[getter] = (path, None)
    return getter


def _flagged(path: str) -> Callable[[BatchPredictionJobSpec], Any]:
    getter = attrgetter(path)

    def flag(doc: BatchPredictionJobSpec) -> Any:
        return _flag(getter(doc))

    _USUAL[flag] = (path, False)
    return flag


def _when(path: str, value: str, usual: str) -> Callable[[BatchPredictionJobSpec], Any]:
    """A setting dropped only at one `value` (most specs hold `usual`)."""
    getter = attrgetter(path)

    def when(doc: BatchPredictionJobSpec) -> Any:
        return value if getter(doc) == value else None

    _USUAL[when] = (path, usual)
    return when


def _written(path: str) -> Callable[[BatchPredictionJobSpec], Any]:
    """A setting with a default, dropped when written."""
    parent, _, field = path.rpartition(".")
    get_parent = attrgetter(parent)

    def written(doc: BatchPredictionJobSpec) -> Any:
        return _explicit(get_parent(doc), field)

    _WRITTEN[written] = path
    return written


# label -> (document path, the setting's value when written, else None). A
# table built once: a target drops a few of these, and reading only those
# costs a fraction of building all of them for every spec (a plain value is
# read by an `attrgetter`, in C, rather than a lambda).
_SETTINGS: Final[dict[str, tuple[DocPath, Callable[[BatchPredictionJobSpec], Any]]]] = {
    "keyField": ((*_IN, "keyField"), _plain("spec.input.key_field")),
    "includedFields": ((*_IN, "includedFields"), _plain("spec.input.included_fields")),
    "excludedFields": ((*_IN, "excludedFields"), _plain("spec.input.excluded_fields")),
    "instanceType": ((*_IN, "instanceType"), _plain("spec.input.instance_type")),
    "tfRecordDecode: example": (
        (*_IN, "tfRecordDecode"),
        _when("spec.input.tf_record_decode", "example", usual="b64"),
    ),
    "requests": ((*_IN, "requests"), _plain("spec.input.requests")),
    "fileName": ((*_IN, "fileName"), _plain("spec.input.file_name")),
    "serviceAccount": (("spec", "serviceAccount"), _plain("spec.service_account")),
    "encryptionKeyName": (("spec", "encryptionKeyName"), _plain("spec.encryption_key_name")),
    "generateExplanation": (
        ("spec", "generateExplanation"),
        _flagged("spec.generate_explanation"),
    ),
    "explanationSpec": (("spec", "explanationSpec"), _plain("spec.explanation_spec")),
    "disableContainerLogging": (
        ("spec", "disableContainerLogging"),
        _flagged("spec.disable_container_logging"),
    ),
    "modelParameters": (("spec", "modelParameters"), _plain("spec.model_parameters")),
    "displayName": (("metadata", "displayName"), _plain("metadata.display_name")),
    "replicaCount": ((*_RES, "replicaCount"), _plain("spec.resources.replica_count")),
    "maxReplicaCount": ((*_RES, "maxReplicaCount"), _plain("spec.resources.max_replica_count")),
    "maxWorkerCount": ((*_RES, "maxWorkerCount"), _written("spec.resources.max_worker_count")),
    "batchSize": ((*_RES, "batchSize"), _written("spec.resources.batch_size")),
    "overwrite": (("spec", "output", "overwrite"), _flagged("spec.output.overwrite")),
    "ray": (("spec", "ray"), _plain("spec.ray")),
    "genai": (("spec", "genai"), _plain("spec.genai")),
    "project": (("spec", "project"), _plain("spec.project")),
    "region": (("spec", "region"), _plain("spec.region")),
}


# Per target: settings that change *what* runs (dropping them is an error) and
# settings that only tune *how* it runs (dropping them is a warning).
_WHAT: Final = (
    "keyField",
    "includedFields",
    "excludedFields",
    "instanceType",
    "tfRecordDecode: example",
)
_SECURITY: Final = ("serviceAccount", "encryptionKeyName")
_VERTEX_ONLY: Final = ("generateExplanation", "explanationSpec", "modelParameters")
_INLINE: Final = ("requests", "fileName")
_GENAI_HOW: Final = (
    "maxWorkerCount",
    "batchSize",
    "replicaCount",
    "maxReplicaCount",
    "overwrite",
    "ray",
)
_DROPPED: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
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
_NO_RESOURCES: Final = "google-genai batch jobs take no resource settings"
_RESOURCE_KEYS: Final = ("maxWorkerCount", "batchSize", "replicaCount", "maxReplicaCount")
_WHY: Final[dict[tuple[str | None, str], str]] = {
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


Get = Callable[[Any], Any]
# Per service: (parent, its fields, their usual values) per parent object,
# then (parent, fields that must not be written) per parent object.
Plan = tuple[tuple[tuple[Get, Get, object], ...], tuple[tuple[Get, frozenset[str]], ...]]
_QUIET: Final[dict[str, Plan]] = {}


def _plan(service: str) -> Plan:
    """How `_quiet` reads `service`'s dropped settings: grouped by the
    object that holds them, so each object is reached once and its fields
    read in one C call (a dotted path per setting walked `spec` twenty
    times)."""
    usual: dict[str, list[tuple[str, object]]] = {}
    written: dict[str, list[str]] = {}
    for name in (n for group in _DROPPED.get(service, ((), ())) for n in group):
        getter = _SETTINGS[name][1]
        if getter in _USUAL:
            path, value = _USUAL[getter]
            parent, _, field = path.rpartition(".")
            usual.setdefault(parent, []).append((field, value))
        else:  # every getter is one of the two kinds (KeyError otherwise)
            parent, _, field = _WRITTEN[getter].rpartition(".")
            written.setdefault(parent, []).append(field)
    plan = _QUIET[service] = (
        tuple(
            (
                attrgetter(parent),
                attrgetter(*(field for field, _ in pairs)),
                tuple(value for _, value in pairs) if len(pairs) > 1 else pairs[0][1],
            )
            for parent, pairs in usual.items()
        ),
        tuple((attrgetter(parent), frozenset(fields)) for parent, fields in written.items()),
    )
    return plan


def _quiet(doc: BatchPredictionJobSpec, service: str) -> bool:
    """Whether `service` surely drops none of the settings `doc` writes:
    every setting holds its usual value (None, False, the default) and no
    defaulted one is written, what most specs answer. False is "look one by
    one" (`unsupported_settings` then says exactly what is dropped, maybe
    nothing)."""
    usual, written = _QUIET.get(service) or _plan(service)
    for parent, fields, values in usual:
        if fields(parent(doc)) != values:
            return False
    for parent, names_ in written:
        if not names_.isdisjoint(getattr(parent(doc), "model_fields_set", ())):
            return False
    return True


def unsupported_settings(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """BS301: settings the target's request has no field for."""
    target = target_of(doc)  # the service name (`.value` is a slow enum property)
    service = "gemini" if gemini_api(doc) else target
    if not _quiet(doc, service):
        yield from dropped(doc, target, service)


def dropped(doc: BatchPredictionJobSpec, target: str, service: str) -> Iterator[Diagnostic]:
    """BS301, setting by setting: what `unsupported_settings` says where
    `_quiet` cannot tell at a glance."""
    cited = CARRY.get(target, CARRY["engines"])
    errors, warnings = _DROPPED.get(service, ((), ()))
    for names_, error in ((errors, True), (warnings, False)):
        for name in names_:
            path, value_of = _SETTINGS[name]
            if value_of(doc) is None:
                continue
            why = _WHY.get((service, name)) or _WHY.get((None, name))
            verb = "cannot carry" if error else "ignores"
            hint = "remove it, or use target: vertex" if error else None
            if target == VERTEX or name == "overwrite" or name in _INLINE:
                hint = "remove it" if error else None
            message = f"{target} {verb} `{name}`" + (f": {why}" if why else "")
            if error:
                yield cited.error(message, path, hint)
            else:
                yield cited.warning(message, path, hint)


# Members read once: a member lookup on an enum class is slow.
_MLENGINE_TARGET, _IGNORES_MACHINES = Target.MLENGINE, (Target.MLENGINE, Target.GENAI)


def ignored_settings(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Settings the target's service ignores (ML Engine's documentation: omit runtimeVersion for
    deployed model versions)."""
    spec, target = doc.spec, doc.spec.target
    if spec.runtime_version is not None:
        if target is not _MLENGINE_TARGET:
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
    if spec.signature_name is not None and target is not _MLENGINE_TARGET:
        yield IGNORED.warning(
            f"signatureName is an ML Engine setting; {target.value} ignores it",
            ("spec", "signatureName"),
        )
    if target in _IGNORES_MACHINES:
        res = spec.resources
        if res.machine_type is not None:
            yield IGNORED.warning(
                f"{target.value} ignores machineType", ("spec", "resources", "machineType")
            )
        if res.accelerator is not None:
            yield IGNORED.warning(
                f"{target.value} ignores accelerator", ("spec", "resources", "accelerator")
            )


__all__ = ["ignored_settings", "unsupported_settings"]
