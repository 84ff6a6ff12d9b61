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
  region (BS302), and free-form values JSON cannot hold (BS303); these checks
  live with the rules (`batchspec.validate.rules`), so `batchspec validate`
  reports them for the spec's own target as well.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from batchspec.diagnostics import Diagnostic, has_errors
from batchspec.model.enums import CLOUD_TARGETS, Target
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.validate.rules import (
    check_rules,
    json_values,
    model_location,
    unsupported_settings,
)

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
    env = os.environ if env is None else env
    target = target or doc.spec.target
    problems: list[Diagnostic] = []
    project, project_source = doc.spec.project, "spec" if doc.spec.project else None
    region, region_source = doc.spec.region, "spec" if doc.spec.region else None
    gemini = (
        target is Target.GENAI and doc.spec.genai is not None and doc.spec.genai.api == "gemini"
    )
    if target in CLOUD_TARGETS and not gemini:  # the Gemini Developer API takes an API key
        if project is None:
            project, project_source = _from_env(env, PROJECT_ENV)
            if project is None:
                problems.append(_project_missing(target))
        if region is None:
            region, region_source = _from_env(env, REGION_ENV)
            if region is None:
                problems.append(_region_missing(target))
    spec = doc.spec.model_copy(update={"target": target, "project": project, "region": region})
    effective = doc.model_copy(update={"spec": spec})
    problems.extend(_rules_for(doc, effective, region_source, written))
    problems.extend(unsupported_settings(effective))
    problems.extend(model_location(effective))
    problems.extend(json_values(effective))
    return Prepared(effective, target, problems, project_source, region_source)


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


__all__ = ["Prepared", "prepare", "unsupported_settings"]
