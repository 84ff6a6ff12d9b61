"""`kind: Model` into Vertex AI's `models.upload` request, and `model: {ref}`
into what a job runs.

The request is `aiplatform.projects.locations.models.upload`'s body, an
`UploadModelRequest`: the `Model` (display name, artifact URI, container
spec, labels, encryption, version aliases), and where the version goes:
`modelId` (the model's first version: the document's name in lowercase, or
`spec.modelId`) or `parentModel` (a parent Model document's model, or a
resource). The fingerprint is taken over the request without batchspec's
labels and alias; the alias `bs-<12 hex digits of it>` then names exactly this
revision: `projects/P/locations/L/models/ID@bs-...`. Because that name is
known before the upload, a job's request can carry it, and its fingerprint
changes with the model's: a new model version replaces the jobs that use it.

On the local engine (and Ray) a reference becomes the `container` runner:
the model's image under the same contract, or its host command where no
container engine runs.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from batchspec.compile.build import unresolved_ref
from batchspec.compile.fingerprint import fingerprint, fingerprint_label
from batchspec.compile.identity import label_value
from batchspec.compile.prepare import settle_location
from batchspec.diagnostics import Diagnostic
from batchspec.errors import CompileError
from batchspec.model.enums import Target
from batchspec.model.jobs import (
    LABEL_FINGERPRINT,
    LABEL_MANAGED_BY,
    LABEL_MODEL,
    MANAGED_BY_VALUE,
    CompiledModel,
)
from batchspec.model.modelspec import ModelDocument
from batchspec.model.runners import ContainerRunner
from batchspec.model.spec import BatchPredictionJobSpec, ModelRef
from batchspec.validate.modeldocs import REVISION_ALIAS_PREFIX, check_model_rules, default_model_id

API, VERSION = "aiplatform", "v1"
METHOD = "aiplatform.projects.locations.models.upload"
FINGERPRINT_TARGET = "vertex-model"
ALIAS_DIGITS = 12


def model_labels(name: str, fp: str) -> dict[str, str]:
    """batchspec's labels on an uploaded model (a model label, not a job label)."""
    return {
        LABEL_MANAGED_BY: MANAGED_BY_VALUE,
        LABEL_MODEL: label_value(name),
        LABEL_FINGERPRINT: fingerprint_label(fp),
    }


def revision_alias(fp: str) -> str:
    """The version alias of a revision: `bs-` and 12 hex digits (Model.versionAliases
    takes `[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]`)."""
    return REVISION_ALIAS_PREFIX + fp[:ALIAS_DIGITS]


def container_spec(doc: ModelDocument) -> dict[str, Any]:
    """ModelContainerSpec: only what the document sets (the service fills defaults)."""
    c = doc.spec.container
    out: dict[str, Any] = {"imageUri": c.image_uri}
    if c.command is not None:
        out["command"] = list(c.command)
    if c.args is not None:
        out["args"] = list(c.args)
    if c.env:
        out["env"] = [{"name": k, "value": v} for k, v in c.env.items()]
    if c.ports:
        out["ports"] = [{"containerPort": p} for p in c.ports]
    if c.predict_route is not None:
        out["predictRoute"] = c.predict_route
    if c.health_route is not None:
        out["healthRoute"] = c.health_route
    return out


def upload_core(doc: ModelDocument, parent_model: str | None, model_id: str) -> dict[str, Any]:
    """The UploadModelRequest without batchspec's labels and revision alias."""
    spec = doc.spec
    model: dict[str, Any] = {
        "displayName": spec.display_name or doc.metadata.name,
        "containerSpec": container_spec(doc),
    }
    if spec.artifact_uri is not None:
        model["artifactUri"] = spec.artifact_uri
    if doc.metadata.description is not None:
        model["description"] = doc.metadata.description
    if spec.version_description is not None:
        model["versionDescription"] = spec.version_description
    if doc.metadata.labels:
        model["labels"] = dict(doc.metadata.labels)
    if spec.version_aliases:
        model["versionAliases"] = list(spec.version_aliases)
    if spec.encryption_key_name is not None:
        model["encryptionSpec"] = {"kmsKeyName": spec.encryption_key_name}
    body: dict[str, Any] = {"model": model}
    if parent_model is not None:
        body["parentModel"] = parent_model
    else:
        body["modelId"] = model_id
    if spec.service_account is not None:
        body["serviceAccount"] = spec.service_account
    return body


def compile_model(
    doc: ModelDocument,
    *,
    parents: Mapping[str, CompiledModel] | None = None,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> CompiledModel:
    """Compile one Model document; `parents` holds the compiled Model documents
    its `parentModel.ref` may name. Raises CompileError with every problem."""
    spec = doc.spec
    where = settle_location(spec.project, spec.region, Target.VERTEX, env)
    problems: list[Diagnostic] = list(where.problems)
    effective = spec.model_copy(update={"project": where.project, "region": where.region})
    if where.region_source not in (None, "spec"):
        settled = doc.model_copy(update={"spec": effective})
        problems += [d for d in check_model_rules(settled) if d.path == ("spec", "region")]
    parent_model: str | None = None
    model_id = spec.model_id or default_model_id(doc.name)
    requires: tuple[str, ...] = ()
    location = f"projects/{where.project}/locations/{where.region}"
    link = spec.parent_model
    if link is not None and link.ref is not None:
        found = (parents or {}).get(link.ref)
        if found is None:
            problems.append(unresolved_ref(link.ref, ("spec", "parentModel", "ref")))
        elif found.parent != location:
            problems.append(
                Diagnostic(
                    "BS302",
                    f"model {doc.name!r} is in {location}, its parent {link.ref!r} in"
                    f" {found.parent}",
                    path=("spec", "region"),
                    hint="versions live under their model: put both in one project and region",
                )
            )
        else:
            parent_model, model_id, requires = found.resource, found.model_id, (link.ref,)
    elif link is not None and link.resource is not None:
        parent_model, model_id = link.resource, link.resource.rsplit("/", 1)[-1]
    if any(d.is_error for d in problems):
        raise CompileError(problems)
    core = upload_core(doc, parent_model, model_id)
    fp = fingerprint(FINGERPRINT_TARGET, core)
    alias = revision_alias(fp)
    labels = {**doc.metadata.labels, **model_labels(doc.name, fp)}
    body = copy.deepcopy(core)
    body["model"]["labels"] = labels
    body["model"]["versionAliases"] = [alias, *spec.version_aliases]
    return CompiledModel(
        name=doc.name,
        body=body,
        fingerprint=fp,
        spec=doc,
        effective=effective,
        parent=location,
        model_id=model_id,
        alias=alias,
        labels=labels,
        source=source,
        requires=requires,
    )


def resolve_ref(
    doc: BatchPredictionJobSpec,
    target: Target,
    *,
    compiled: Mapping[str, CompiledModel],
    documents: Mapping[str, tuple[ModelDocument, Path | None]],
    job_source: Path | None = None,
) -> BatchPredictionJobSpec:
    """The job with `model: {ref: NAME}` replaced by what `target` runs: the
    revision's version on Vertex AI (and google-genai through it; from
    `compiled`), the model's container on the local engine and Ray (from the
    document itself, which needs no project: its host command runs in the
    Model document's folder, written relative to the job's spec file). Jobs
    without a reference are returned as they are; CompileError when the
    model is not there."""
    ref = doc.spec.model.ref
    if ref is None:
        return doc
    if target in (Target.LOCAL, Target.RAY):
        found = documents.get(ref)
        if found is None:
            raise CompileError([unresolved_ref(ref)])
        named = ModelRef.model_validate({"local": container_runner(found[0], found[1], job_source)})
    else:
        model = compiled.get(ref)
        if model is None:
            raise CompileError([unresolved_ref(ref)])
        named = ModelRef.model_validate({"resource": model.version})
    return doc.model_copy(update={"spec": doc.spec.model_copy(update={"model": named})})


def container_runner(
    model: ModelDocument, model_source: Path | None = None, job_source: Path | None = None
) -> ContainerRunner:
    """The local engine's runner for a Model document: its image and contract,
    the local settings, and the host command that stands in for the image."""
    spec = model.spec
    c, local = spec.container, spec.local
    settings: dict[str, Any] = {
        "runner": "container",
        "image": c.image_uri,
        "command": c.command,
        "args": c.args,
        "env": {**c.env, **local.env},
        "port": c.port,
        "healthRoute": c.health_route,
        "predictRoute": c.predict_route,
        "storageUri": local.storage_uri or spec.artifact_uri,
        "memory": local.memory,
        "hostCommand": local.command,
        "hostDir": _host_dir(model_source, job_source),
        "engine": local.engine,
        "startupTimeoutSeconds": local.startup_timeout_seconds,
        "requestTimeoutSeconds": local.request_timeout_seconds,
    }
    return ContainerRunner.model_validate(settings)


def _host_dir(model_source: Path | None, job_source: Path | None) -> str | None:
    """The Model document's folder relative to the job's spec file's folder
    (None when they are the same or unknown): relative, so the job's
    fingerprint does not depend on where the checkout is."""
    if model_source is None or job_source is None:
        return None
    here, there = job_source.resolve().parent, model_source.resolve().parent
    return None if here == there else os.path.relpath(there, here)


__all__ = [
    "API",
    "METHOD",
    "VERSION",
    "compile_model",
    "container_runner",
    "model_labels",
    "resolve_ref",
    "revision_alias",
    "upload_core",
]
