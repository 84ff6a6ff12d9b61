"""Plans as JSON: the machine renderer and the saved plan `apply` executes.

A saved plan holds the compiled jobs it would submit (so apply runs exactly
what was reviewed, even if the specs changed since), secrets redacted (a
job with redacted values is compiled again from its spec at apply and must
come out as the same revision), the identity of the
state it was made against (lineage and a hash of the job rows) and a digest
of its own content. `load_plan` refuses a plan for another state file, a
plan whose state moved on, a plan with errors and a plan edited by hand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from batchspec import __version__
from batchspec.compile.fingerprint import canonical_json
from batchspec.errors import PlanError
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob, CompiledModel
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.plan.actions import RECURRING, Action, ActionKind, Plan, PlannedRun, Upcoming
from batchspec.plan.desired import Problem
from batchspec.plan.models import ModelAction, ModelActionKind
from batchspec.secrets import strings
from batchspec.state.records import RunOutcome, from_text, to_text
from batchspec.state.redact import REDACTED, marked_keys, redact
from batchspec.state.runs import TickDecision
from batchspec.state.store import StateStore

PLAN_FORMAT = "batchspec-plan"
PLAN_FORMAT_VERSION = 1


def job_to_dict(job: CompiledJob) -> dict[str, Any]:
    """A compiled job as JSON-ready data (the spec included, to rebuild it),
    secrets redacted: a saved plan is a CI artifact."""
    marked = marked_keys(job.spec)
    return {
        "name": job.name,
        "target": job.target.value,
        "fingerprint": job.fingerprint,
        "body": redact(job.body, marked),
        "labels": dict(job.labels),
        "parent": job.parent,
        "source": str(job.source) if job.source else None,
        "spec": redact(job.spec.model_dump(mode="json", by_alias=True), marked),
        "project": job.effective.project,
        "region": job.effective.region,
    }


def job_from_dict(data: Mapping[str, Any]) -> CompiledJob:
    """Inverse of `job_to_dict`. A job whose values were redacted is compiled
    again from its spec file, and accepted only as the same revision (the
    fingerprint covers every value): apply runs exactly what was reviewed."""
    spec = BatchPredictionJobSpec.model_validate_json(json.dumps(data["spec"]))
    target, written = Target(data["target"]), spec.spec
    settled = {
        "target": target,
        "project": data.get("project", written.project),
        "region": data.get("region", written.region),
    }
    job = CompiledJob(
        name=data["name"],
        target=target,
        body=data["body"],
        fingerprint=data["fingerprint"],
        spec=spec,
        effective=written.model_copy(update=settled),
        labels=dict(data.get("labels") or {}),
        parent=data.get("parent"),
        source=Path(data["source"]) if data.get("source") else None,
    )
    if any(REDACTED in text for _, text in strings([data["body"], data["spec"]])):
        return _with_secret_values(job)
    return job


def _with_secret_values(saved: CompiledJob) -> CompiledJob:
    from batchspec.compile.paths import compile_paths

    where = f"job {saved.name!r} of the plan holds redacted values"
    if saved.source is None or not saved.source.is_file():
        raise PlanError(
            f"{where} and its spec file {saved.source or '(unknown)'} is gone",
            hint="make a new plan where the spec files are",
        )
    again = compile_paths([saved.source], select=[saved.name], target=saved.target)
    for job in again.jobs:
        if job.name == saved.name and job.fingerprint == saved.fingerprint:
            return job
    raise PlanError(
        f"{where}, and {saved.source} no longer compiles to the planned revision"
        f" {saved.fingerprint[:12]}",
        hint="the spec changed since the plan was made: make a new plan and review it",
    )


def _action_to_dict(action: Action) -> dict[str, Any]:
    previous = action.previous
    return {
        "kind": action.kind.value,
        "name": action.name,
        "target": action.target,
        "reason": action.reason,
        "notes": list(action.notes),
        "refused": action.refused,
        "notBefore": to_text(action.not_before),
        "fingerprint": action.fingerprint,
        "previous": None
        if previous is None
        else {
            "id": previous.id,
            "fingerprint": previous.fingerprint,
            "remoteName": previous.remote_name,
            "state": previous.state.value if previous.state else None,
            "disposition": previous.disposition.value,
        },
        "job": job_to_dict(action.job) if action.job is not None and _needs_job(action) else None,
        **_recurring_to_dict(action),
    }


def _needs_job(action: Action) -> bool:
    """Apply needs the compiled job of what it submits and of the schedule it records."""
    return action.submits or action.kind in RECURRING


def _recurring_to_dict(action: Action) -> dict[str, Any]:
    """The run, the ticks decided and the cursor of a recurring spec's action
    (absent for every other action, so plans of one-off specs keep their shape)."""
    out: dict[str, Any] = {}
    if action.run is not None:
        out["run"] = action.run.to_dict()
    if action.decided:
        out["decided"] = [
            {
                "key": d.key,
                "at": to_text(d.at),
                "outcome": d.outcome.value,
                "reason": d.reason,
                "inputsDigest": d.inputs_digest,
            }
            for d in action.decided
        ]
    if action.cursor is not None:
        out["cursor"] = to_text(action.cursor)
    return out


def _decided_from(items: Any) -> tuple[TickDecision, ...]:
    out = []
    for d in items or ():
        at = from_text(d["at"])
        assert at is not None
        out.append(
            TickDecision(d["key"], at, RunOutcome(d["outcome"]), d["reason"], d.get("inputsDigest"))
        )
    return tuple(out)


def _summary(plan: Plan) -> dict[str, int]:
    """Actions per kind; the kinds of recurring specs only when a plan has them."""
    counts = plan.counts()
    shown = any(counts[k] for k in RECURRING) or plan.upcoming
    return {k.value: n for k, n in counts.items() if shown or k not in RECURRING}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The whole plan as JSON-ready data, with a digest of its content."""
    data: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "formatVersion": PLAN_FORMAT_VERSION,
        "batchspec": __version__,
        "createdAt": to_text(plan.created_at),
        "state": {
            "path": plan.state_path,
            "lineage": plan.lineage,
            "serial": plan.serial,
            "hash": plan.state_hash,
        },
        "refreshed": plan.refreshed,
        "summary": _summary(plan),
        "hasChanges": plan.has_changes,
        "hasErrors": plan.has_errors,
        "actions": [_action_to_dict(a) for a in plan.actions],
        "diagnostics": [d.to_dict() for d in plan.diagnostics],
        "problems": [p.to_dict() for p in plan.problems],
        "unobserved": dict(plan.unobserved),
        "upcoming": [u.to_dict() for u in plan.upcoming],
        "models": [_model_to_dict(m) for m in plan.models],
    }
    data["digest"] = _digest(data)
    return data


def _digest(data: Mapping[str, Any]) -> str:
    content = {k: v for k, v in data.items() if k != "digest"}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def render_json(plan: Plan) -> str:
    """The JSON renderer: the saved-plan document, pretty-printed."""
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False)


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write the plan for a later `batchspec apply PLAN.json`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(render_json(plan) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def is_plan_file(path: str | Path) -> bool:
    """True for a file that looks like a saved plan (JSON with our format tag)."""
    candidate = Path(path)
    if candidate.suffix != ".json" or not candidate.is_file():
        return False
    try:
        with candidate.open("rb") as handle:
            head = handle.read(200).decode("utf-8", "replace")
    except OSError:
        return False
    return PLAN_FORMAT in head


def load_plan(path: str | Path, store: StateStore) -> Plan:
    """Read a saved plan and check that it still applies to `store`."""
    source = Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"cannot read plan {source}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanError(
            f"{source} is not a batchspec plan", hint="make one with `batchspec plan --out`"
        )
    if data.get("formatVersion") != PLAN_FORMAT_VERSION:
        raise PlanError(
            f"plan {source} has format version {data.get('formatVersion')}, this batchspec"
            f" reads version {PLAN_FORMAT_VERSION}",
            hint="make the plan again with this batchspec",
        )
    if data.get("digest") != _digest(data):
        raise PlanError(
            f"plan {source} was modified after it was made (digest mismatch)",
            hint="make a new plan; a saved plan is applied exactly as reviewed or not at all",
        )
    state = data["state"]
    if state["lineage"] != store.lineage:
        raise PlanError(
            f"plan {source} was made against another state file (lineage {state['lineage'][:8]},"
            f" this one is {store.lineage[:8]})",
            hint="use the --state the plan was made with, or make a new plan",
        )
    current = store.state_hash()
    if state["hash"] != current:
        raise PlanError(
            f"state changed since plan {source} was made (serial {state['serial']} then,"
            f" {store.serial} now)",
            hint="jobs were submitted or changed state meanwhile: make a new plan and review it",
        )
    if data.get("hasErrors"):
        raise PlanError(f"plan {source} has errors and cannot be applied")
    actions = [_action_from_dict(item, store) for item in data["actions"]]
    models = _models_from_dict(data.get("models", []), store)
    created = from_text(data.get("createdAt")) or datetime.now().astimezone()
    return Plan(
        actions=actions,
        state_hash=state["hash"],
        lineage=state["lineage"],
        serial=state["serial"],
        created_at=created,
        state_path=state.get("path"),
        refreshed=bool(data.get("refreshed")),
        problems=[Problem(**p) for p in data.get("problems", [])],
        upcoming=[Upcoming.from_dict(u) for u in data.get("upcoming", [])],
        models=models,
    )


def _model_to_dict(action: ModelAction) -> dict[str, Any]:
    """A model action with its document as compiled (project and region
    settled), secrets redacted, so apply can rebuild exactly that revision."""
    model = action.model
    doc = model.spec.model_copy(update={"spec": model.effective})
    spec = doc.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {
        **action.to_dict(),
        "document": redact(spec, marked_keys(spec)),
        "source": str(model.source) if model.source else None,
        "body": dict(model.body),
    }


def _models_from_dict(items: list[Mapping[str, Any]], store: StateStore) -> list[ModelAction]:
    """The model actions of a saved plan, each compiled again from its
    document and checked to be the revision that was reviewed."""
    from batchspec.compile.model import compile_model
    from batchspec.errors import CompileError
    from batchspec.model.modelspec import ModelDocument

    current = store.current_models()
    done: dict[str, CompiledModel] = {}
    out = []
    for item in items:
        name = item["name"]
        try:
            doc = ModelDocument.model_validate(item["document"])
            source = Path(item["source"]) if item.get("source") else None
            model = compile_model(doc, parents=done, source=source)
        except (CompileError, ValueError) as exc:
            raise PlanError(f"model {name} in the plan no longer compiles: {exc}") from exc
        if model.fingerprint != item["fingerprint"]:
            raise PlanError(
                f"model {name} compiles to revision {model.short_fingerprint}, the plan"
                f" reviewed {str(item['fingerprint'])[:12]}",
                hint="its document holds redacted values or changed meaning: make a new plan",
            )
        done[name] = model
        out.append(ModelAction(ModelActionKind(item["kind"]), name, item["reason"], model,
                               current.get(name)))  # fmt: skip
    return out


def _action_from_dict(item: Mapping[str, Any], store: StateStore) -> Action:
    previous = item.get("previous")
    job = item.get("job")
    return Action(
        kind=ActionKind(item["kind"]),
        name=item["name"],
        reason=item["reason"],
        target=item.get("target"),
        job=job_from_dict(job) if job else None,
        previous=store.job(previous["id"]) if previous else None,
        not_before=from_text(item.get("notBefore")),
        notes=tuple(item.get("notes") or ()),
        run=PlannedRun.from_dict(item["run"]) if item.get("run") else None,
        decided=_decided_from(item.get("decided")),
        cursor=from_text(item.get("cursor")),
        refused=item.get("refused"),
    )
