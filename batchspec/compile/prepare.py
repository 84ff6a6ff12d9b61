"""Before a body is built: settle where the job runs and whether it can.

Compiling never produces a half-built body. This module turns a validated
spec plus a requested target into the *effective* spec (target, project and
region filled in, from the environment where the spec leaves them out) and
the diagnostics that stand in the way:

* project and region for cloud targets (BS261, BS210);
* the rules of `batchspec.validate.rules`, against the effective spec, when
  it differs from the spec as written: a requested target that is not the
  spec's own (reported as BS300), or a project or region taken from the
  environment. A BigQuery source for ML Engine or a region outside an
  allow-list is so caught by the same code that catches it in `batchspec
  validate`. The rules run once per (spec, effective target): the validator
  has already judged the spec as written, its findings are passed in, and a
  spec compiled for its own target with its own project and region is not
  judged again at all;
* settings the target's API cannot carry (BS301), a Vertex model in another
  region (BS302), and free-form values JSON cannot hold (BS303).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from batchspec.diagnostics import Diagnostic, DocPath, has_errors
from batchspec.model.enums import CLOUD_TARGETS, Severity, Target
from batchspec.model.spec import BatchPredictionJobSpec, PythonRunner
from batchspec.validate.rules import check_rules

PROJECT_ENV = ("BATCHSPEC_PROJECT", "GOOGLE_CLOUD_PROJECT")
REGION_ENV = ("BATCHSPEC_REGION",)


@dataclass(frozen=True)
class Prepared:
    """The effective spec for one target and what stands in its way."""

    spec: BatchPredictionJobSpec
    target: Target
    diagnostics: list[Diagnostic] = field(default_factory=list)
    project_source: str | None = None
    region_source: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing is an error: a body can be built."""
        return not has_errors(self.diagnostics)


def prepare(
    doc: BatchPredictionJobSpec,
    target: Target | None = None,
    env: Mapping[str, str] | None = None,
    *,
    written: Sequence[Diagnostic] | None = None,
) -> Prepared:
    """Resolve `doc` for `target` (default: its own) and collect every problem.

    `written` is what the rules found in `doc` as written, when the caller
    already knows (`LoadedSpec.rules`); without it the rules run on `doc`
    too, but only when the effective spec differs from it."""
    target = target or doc.spec.target
    where = settle_location(doc.spec.project, doc.spec.region, target, env)
    problems = list(where.problems)
    project, project_source = where.project, where.project_source
    region, region_source = where.region, where.region_source
    spec = doc.spec.model_copy(update={"target": target, "project": project, "region": region})
    effective = doc.model_copy(update={"spec": spec})
    problems.extend(_rules_for(doc, effective, region_source, written))
    problems.extend(unsupported_settings(effective))
    problems.extend(model_location(effective))
    problems.extend(json_values(effective))
    return Prepared(effective, target, problems, project_source, region_source)


@dataclass(frozen=True)
class Location:
    """Project and region as they run, where each came from, and what is missing."""

    project: str | None
    region: str | None
    project_source: str | None
    region_source: str | None
    problems: tuple[Diagnostic, ...] = ()


def settle_location(
    project: str | None,
    region: str | None,
    target: Target,
    env: Mapping[str, str] | None = None,
) -> Location:
    """Project and region for `target`: as written, else from the environment
    (BS261 / BS210 when a cloud target has neither)."""
    env = os.environ if env is None else env
    problems: list[Diagnostic] = []
    project_source = "spec" if project else None
    region_source = "spec" if region else None
    if target in CLOUD_TARGETS:
        if project is None:
            project, project_source = _from_env(env, PROJECT_ENV)
            if project is None:
                problems.append(_project_missing(target))
        if region is None:
            region, region_source = _from_env(env, REGION_ENV)
            if region is None:
                problems.append(_region_missing(target))
    return Location(project, region, project_source, region_source, tuple(problems))


def _from_env(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str | None, str | None]:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value, f"${name}"
    return None, None


def _project_missing(target: Target) -> Diagnostic:
    return _missing(target, "BS261", "project", "a Google Cloud project", PROJECT_ENV)


def _region_missing(target: Target) -> Diagnostic:
    return _missing(target, "BS210", "region", "a region", REGION_ENV)


def _missing(target: Target, code: str, key: str, what: str, env: tuple[str, ...]) -> Diagnostic:
    names = env[0] + (f" (or {', '.join(env[1:])})" if env[1:] else "")
    return Diagnostic(
        code,
        f"{target.value} needs {what}",
        path=("spec", key),
        hint=f"add `{key}:` to the spec or set {names}",
    )


def _rules_for(
    doc: BatchPredictionJobSpec,
    effective: BatchPredictionJobSpec,
    region_source: str | None,
    written: Sequence[Diagnostic] | None,
) -> list[Diagnostic]:
    """Diagnostics the rules raise for the effective spec and not for the spec as
    written: what the requested target (or an environment value) changes."""
    target = effective.spec.target
    if _settled(effective) == _settled(doc):
        return []  # the rules have judged exactly this spec already
    known = {_unplaced(d) for d in (check_rules(doc) if written is None else written)}
    out = []
    for found in check_rules(effective):
        if found in known:
            continue
        d = found
        if d.path == ("spec", "region") and region_source not in (None, "spec"):
            d = d.at(message=f"{d.message} (region from {region_source})")
        if d.is_error and target is not doc.spec.target:
            d = Diagnostic(
                "BS300",
                f"cannot compile for {target.value}: {d.message} [{d.code}]",
                path=d.path,
                hint=d.hint,
            )
        out.append(d)
    return out


def _settled(doc: BatchPredictionJobSpec) -> tuple[Target, str | None, str | None]:
    """What `prepare` may change in a spec: the rules see nothing else move."""
    return doc.spec.target, doc.spec.project, doc.spec.region


def _unplaced(d: Diagnostic) -> Diagnostic:
    return d.at(file=None, line=None, column=None, document=None)


# --- settings a target cannot carry ---------------------------------------------


@dataclass(frozen=True)
class _Setting:
    path: DocPath
    label: str
    value: Any


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
        _Setting(("spec", "serviceAccount"), "serviceAccount", spec.service_account),
        _Setting(("spec", "encryptionKeyName"), "encryptionKeyName", spec.encryption_key_name),
        _Setting(
            ("spec", "generateExplanation"),
            "generateExplanation",
            True if spec.generate_explanation else None,
        ),
        _Setting(("spec", "modelParameters"), "modelParameters", spec.model_parameters),
        _Setting((*base_res, "replicaCount"), "replicaCount", res.replica_count),
        _Setting((*base_res, "maxReplicaCount"), "maxReplicaCount", res.max_replica_count),
        _Setting(
            (*base_res, "maxWorkerCount"),
            "maxWorkerCount",
            res.max_worker_count if "max_worker_count" in res.model_fields_set else None,
        ),
        _Setting(
            (*base_res, "batchSize"),
            "batchSize",
            res.batch_size if "batch_size" in res.model_fields_set else None,
        ),
        _Setting(
            ("spec", "output", "overwrite"),
            "overwrite",
            True if doc.spec.output.overwrite else None,
        ),
        _Setting(("spec", "ray"), "ray", spec.ray),
    ]
    return {s.label: s for s in items}


# Per target: settings that change *what* runs (dropping them is an error) and
# settings that only tune *how* it runs (dropping them is a warning).
_WHAT = ("keyField", "includedFields", "excludedFields", "instanceType", "tfRecordDecode: example")
_SECURITY = ("serviceAccount", "encryptionKeyName")
_VERTEX_ONLY = ("generateExplanation", "modelParameters")
_DROPPED: dict[Target, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Target.MLENGINE: (
        _WHAT + _SECURITY + _VERTEX_ONLY,
        ("replicaCount", "maxReplicaCount", "overwrite", "ray"),
    ),
    Target.VERTEX: (("tfRecordDecode: example",), ("maxWorkerCount", "overwrite", "ray")),
    Target.GENAI: (
        _WHAT + _SECURITY + _VERTEX_ONLY,
        ("maxWorkerCount", "batchSize", "replicaCount", "maxReplicaCount", "overwrite", "ray"),
    ),
    Target.LOCAL: ((), ("ray",)),
}
_WHY: dict[tuple[Target | None, str], str] = {
    (None, "tfRecordDecode: example"): 'the service always sends TFRecord payloads as {"b64": ...}',
    (None, "overwrite"): "the service writes every run into a new folder; overwrite is for"
    " the local engine",
    (Target.VERTEX, "maxWorkerCount"): "Vertex sizes jobs by replicaCount on a machineType",
    (Target.GENAI, "maxWorkerCount"): "google-genai batch jobs take no resource settings",
    (Target.GENAI, "batchSize"): "google-genai batch jobs take no resource settings",
    (Target.GENAI, "replicaCount"): "google-genai batch jobs take no resource settings",
    (Target.GENAI, "maxReplicaCount"): "google-genai batch jobs take no resource settings",
    (Target.MLENGINE, "overwrite"): "ML Engine has no such setting; clear the output path"
    " before the run",
    (None, "ray"): "the `ray` block configures target ray only",
    (Target.MLENGINE, "replicaCount"): "ML Engine scales workers up to maxWorkerCount",
    (Target.MLENGINE, "maxReplicaCount"): "ML Engine scales workers up to maxWorkerCount",
}


def unsupported_settings(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """BS301: settings the target's request has no field for."""
    target = doc.spec.target
    errors, warnings = _DROPPED.get(target, ((), ()))
    settings = _settings(doc)
    for names, severity in ((errors, Severity.ERROR), (warnings, Severity.WARNING)):
        for name in names:
            setting = settings[name]
            if setting.value is None:
                continue
            why = _WHY.get((target, name)) or _WHY.get((None, name))
            verb = "cannot carry" if severity is Severity.ERROR else "ignores"
            hint = "remove it, or use target: vertex" if severity is Severity.ERROR else None
            if target is Target.VERTEX or name == "overwrite":
                hint = "remove it" if severity is Severity.ERROR else None
            yield Diagnostic(
                "BS301",
                f"{target.value} {verb} `{name}`" + (f": {why}" if why else ""),
                severity=severity,
                path=setting.path,
                hint=hint,
            )


def model_location(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """BS302: a Vertex model must share the job's location."""
    resource, region = doc.spec.model.resource, doc.spec.region
    if doc.spec.target not in (Target.VERTEX, Target.GENAI) or not resource or not region:
        return
    parts = resource.split("/")
    if len(parts) >= 4 and parts[2] == "locations" and parts[3] != region:
        yield Diagnostic(
            "BS302",
            f"model {resource!r} lives in {parts[3]}, the job runs in {region}",
            path=("spec", "model", "resource"),
            hint=f"a batch job uses a model in its own region: copy the model to {region}"
            f" or set region: {parts[3]}",
        )


def json_values(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """BS303: free-form values must be plain JSON, or fingerprints are not stable."""
    yield from _json_problems(doc.spec.model_parameters, ("spec", "modelParameters"))
    local = doc.spec.model.local
    if isinstance(local, PythonRunner):
        yield from _json_problems(local.init_args, ("spec", "model", "local", "initArgs"))
    if doc.spec.ray is not None:
        yield from _json_problems(doc.spec.ray.runtime_env, ("spec", "ray", "runtimeEnv"))


def _json_problems(value: Any, path: DocPath) -> Iterator[Diagnostic]:
    if isinstance(value, float) and not math.isfinite(value):
        yield Diagnostic(
            "BS303",
            f"{value!r} cannot be written as JSON",
            path=path,
            hint="use a finite number or a string",
        )
    elif isinstance(value, dt.date | dt.datetime | dt.time):
        yield Diagnostic(
            "BS303",
            f"YAML read {value.isoformat()} as a date; request bodies hold strings",
            path=path,
            hint=f"quote it: '{value.isoformat()}'",
        )
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield Diagnostic(
                    "BS303", f"key {key!r} is not a string", path=path, hint="quote the key"
                )
            yield from _json_problems(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _json_problems(item, (*path, i))
    elif value is not None and not isinstance(value, str | int | float | bool):
        yield Diagnostic(
            "BS303", f"a {type(value).__name__} value cannot be written as JSON", path=path
        )


__all__ = ["Location", "Prepared", "prepare", "settle_location", "unsupported_settings"]
