"""The rules a spec must follow, one module per family, each rule cited.

Modules: `common` (batchspec's own spec language and identity), `storage`
(Cloud Storage and BigQuery URIs), `models` (model names and locations),
`formats` (format compatibility and explanations), `labels`, `resources`
(machines, accelerators, counts), `access` (project, region, service account,
key, display name), `genai` (the Gemini Developer API mode), `recurring`
(schedules, triggers and run variables) and `expressible` (what a target's
request cannot carry). Every diagnostic is emitted through a
`core.Rule`, which names the services it guards and its source;
`RULES_CITED` lists them all (docs/diagnostics.md shows each with its source).

Two groups, because compiling uses them differently:

* `SPEC_RULES` (`check_rules`): what the spec as written must follow for its
  target. `compile.prepare` runs them again for another target and reports
  only what that target changes (as BS300).
* `TARGET_RULES` (`check_target_rules`): what the request for a target cannot
  carry (BS301), where the model must live (BS302) and what JSON cannot hold
  (BS303). `compile.prepare` runs them on the effective spec as they are.

`batchspec validate` runs both, so it refuses everything `plan` would.
Both run, for a spec, only the checks whose cited rules guard its target
or batchspec itself (`reach`: derived from the rules, held to running
every check by tests/validate/test_rule_reach.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batchspec.diagnostics import Diagnostic
from batchspec.validate.rules import (
    access,
    common,
    expressible,
    formats,
    genai,
    labels,
    models,
    recurring,
    resources,
    storage,
)
from batchspec.validate.rules.core import RULES_CITED, Check, Rule, target_of
from batchspec.validate.rules.expressible import unsupported_settings
from batchspec.validate.rules.models import expand_publisher, model_location
from batchspec.validate.rules.storage import wildcard_problem

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

json_values = common.json_values

SPEC_RULES: tuple[Check, ...] = (
    common.job_name,
    common.input_location,
    common.output_location,
    common.model_choice,
    common.local_runner,
    common.reserved_labels,
    common.policy,
    access.region,
    access.project,
    access.service_account,
    access.kms_key,
    access.display_name,
    access.retired,
    storage.input_paths,
    storage.output_path,
    storage.bigquery_locations,
    models.vertex_models,
    models.gemini_api_model,
    models.mlengine_models,
    formats.formats,
    formats.model_family_formats,
    formats.vertex_instances,
    formats.engine_instances,
    formats.explanations,
    labels.labels,
    resources.vertex_resources,
    genai.gemini_inputs,
    genai.gemini_key,
    expressible.ignored_settings,
    *recurring.RULES,
)
TARGET_RULES: tuple[Check, ...] = (unsupported_settings, model_location, json_values)


# Per target: the checks of each group whose rules can speak to it
# (`batchspec.validate.rules.reach`), worked out at a target's first spec.
_FOR_TARGET: dict[str, tuple[tuple[Check, ...], tuple[Check, ...], tuple[Check, ...]]] = {}


def _checks(doc: BatchPredictionJobSpec) -> tuple[tuple[Check, ...], ...]:
    target = target_of(doc)
    found = _FOR_TARGET.get(target)
    if found is None:
        from batchspec.validate.rules.reach import for_target

        spec, request = for_target(SPEC_RULES, target), for_target(TARGET_RULES, target)
        found = _FOR_TARGET[target] = (spec, request, spec + request)
    return found


def check_rules(doc: BatchPredictionJobSpec) -> list[Diagnostic]:
    """Every rule the spec as written must follow for its own target."""
    return [d for check in _checks(doc)[0] for d in check(doc)]


def check_target_rules(doc: BatchPredictionJobSpec) -> list[Diagnostic]:
    """What the target's request cannot carry, model location, JSON values."""
    return [d for check in _checks(doc)[1] for d in check(doc)]


def check_all(doc: BatchPredictionJobSpec) -> list[Diagnostic]:
    """Everything `validate` reports for one spec (what compiling would refuse
    too): `check_rules`, then `check_target_rules`."""
    return [d for check in _checks(doc)[2] for d in check(doc)]


def check_every(doc: BatchPredictionJobSpec) -> list[Diagnostic]:
    """What `check_all` says, from every check, whatever the target: what
    the per-target table is held to (tests/validate/test_rule_reach.py)."""
    return [d for check in (*SPEC_RULES, *TARGET_RULES) for d in check(doc)]


__all__ = [
    "RULES_CITED",
    "SPEC_RULES",
    "TARGET_RULES",
    "Rule",
    "check_all",
    "check_every",
    "check_rules",
    "check_target_rules",
    "expand_publisher",
    "json_values",
    "model_location",
    "unsupported_settings",
    "wildcard_problem",
]
