"""Compile one typed spec: prepare it for its target, build the body, stamp
its identity. `batchspec.compile.paths` is the door from files to here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from batchspec.compile.fingerprint import fingerprint
from batchspec.compile.genai import genai_body
from batchspec.compile.identity import add_identity, managed_labels
from batchspec.compile.local import local_body, ray_body
from batchspec.compile.mlengine import mlengine_body
from batchspec.compile.prepare import Prepared, prepare
from batchspec.compile.vertex import vertex_body
from batchspec.diagnostics import Diagnostic
from batchspec.errors import CompileError
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.validate.rules.core import gemini_api

Builder = Callable[[BatchPredictionJobSpec], dict[str, Any]]

BUILDERS: dict[Target, Builder] = {
    Target.MLENGINE: mlengine_body,
    Target.VERTEX: vertex_body,
    Target.GENAI: genai_body,
    Target.LOCAL: local_body,
    Target.RAY: ray_body,
}


def compile_spec(
    doc: BatchPredictionJobSpec,
    *,
    target: Target | None = None,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> CompiledJob:
    """Compile `doc` for `target` (default: the spec's own target).

    Project and region come from the spec, else from `env` (default: the
    process environment: BATCHSPEC_PROJECT / GOOGLE_CLOUD_PROJECT,
    BATCHSPEC_REGION). Raises `CompileError` with every problem at once."""
    job, _ = compile_with_diagnostics(doc, target=target, source=source, env=env)
    return job


def compile_with_diagnostics(
    doc: BatchPredictionJobSpec,
    *,
    target: Target | None = None,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
    written: Sequence[Diagnostic] | None = None,
) -> tuple[CompiledJob, list[Diagnostic]]:
    """Like `compile_spec`, also returning the warnings (settings the target
    ignores, for instance) that did not stop the compile.

    `written`: what the rules already found in `doc` as written (the
    validator's `LoadedSpec.rules`), so they are not asked again."""
    prepared = prepare(doc, target, env, written=written)
    diagnostics = [d.at(file=str(source)) if source else d for d in prepared.diagnostics]
    if not prepared.ok:
        errors = [d for d in diagnostics if d.is_error]
        raise CompileError(errors + [d for d in diagnostics if not d.is_error])
    return build(doc, prepared, source=source), diagnostics


def compile_diagnostics(
    doc: BatchPredictionJobSpec,
    *,
    target: Target | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Diagnostic]:
    """Every problem compiling `doc` for `target` would meet, without raising."""
    return prepare(doc, target, env).diagnostics


def build(
    doc: BatchPredictionJobSpec, prepared: Prepared, *, source: Path | None = None
) -> CompiledJob:
    """Build the body of a prepared spec (its diagnostics must hold no error)."""
    target, effective = prepared.target, prepared.spec
    core = BUILDERS[target](effective)
    fp = fingerprint(target.value, core)
    name = doc.metadata.name
    labels = {**doc.metadata.labels, **managed_labels(name, fp)}
    body = core if target in (Target.LOCAL, Target.RAY) else add_identity(target, core, name, fp)
    return CompiledJob(
        name=name,
        target=target,
        body=body,
        fingerprint=fp,
        spec=doc,
        effective=effective.spec,
        labels=labels,
        parent=parent_of(effective),
        source=source,
    )


def parent_of(effective: BatchPredictionJobSpec) -> str | None:
    """The resource a create call goes under: `projects/P` for ML Engine,
    `projects/P/locations/R` for Vertex and google-genai on Vertex; none locally
    or for the Gemini Developer API (an API key, no project or location)."""
    spec = effective.spec
    if spec.target is Target.MLENGINE:
        return f"projects/{spec.project}"
    if spec.target in (Target.VERTEX, Target.GENAI) and not gemini_api(effective):
        return f"projects/{spec.project}/locations/{spec.region}"
    return None
