"""A spec a target cannot run gets diagnostics naming target and field, never a body."""

from __future__ import annotations

from typing import Any

import pytest

from batchspec.compile import compile_diagnostics, compile_spec, compile_with_diagnostics
from batchspec.errors import CompileError
from batchspec.model.enums import Severity, Target
from tests.compile.conftest import make_spec, structural_spec, validate_codes

PROJECT_LOCATION = "projects/proj-123456/locations/us-central1"


def errors_of(
    doc: Any, target: Target | None = None, env: dict[str, str] | None = None
) -> list[Any]:
    with pytest.raises(CompileError) as caught:
        compile_spec(doc, target=target, env=env or {})
    return [d for d in caught.value.diagnostics if d.is_error]


def test_project_and_region_fall_back_to_the_environment() -> None:
    doc = make_spec(
        "vertex",
        {
            "project": None,
            "region": None,
            "model": {"resource": "projects/proj-123456/locations/europe-west4/models/1"},
        },
    )
    env = {"BATCHSPEC_PROJECT": "env-proj", "BATCHSPEC_REGION": "europe-west4"}
    job = compile_spec(doc, env=env)
    assert job.parent == "projects/env-proj/locations/europe-west4"
    google = compile_spec(
        doc, env={"GOOGLE_CLOUD_PROJECT": "g-proj", "BATCHSPEC_REGION": "europe-west4"}
    )
    assert google.parent == "projects/g-proj/locations/europe-west4"
    both = {**env, "GOOGLE_CLOUD_PROJECT": "ignored"}
    assert compile_spec(doc, env=both).parent == job.parent  # BATCHSPEC_PROJECT wins


def test_missing_project_and_region_are_both_reported() -> None:
    doc = make_spec("vertex", {"project": None, "region": None})
    codes = {(d.code, d.pointer) for d in errors_of(doc)}
    assert ("BS261", "spec.project") in codes
    assert ("BS210", "spec.region") in codes


def test_region_from_environment_is_checked_against_the_allow_list() -> None:
    doc = make_spec("mlengine", {"region": None})
    [error] = errors_of(doc, env={"BATCHSPEC_REGION": "europe-west4"})
    assert error.code == "BS211"
    assert "$BATCHSPEC_REGION" in error.message
    assert error.pointer == "spec.region"


@pytest.mark.parametrize(
    ("target", "changes", "code", "pointer", "words"),
    [
        (
            Target.MLENGINE,
            {"input": {"format": "BIGQUERY", "paths": None, "bigquery": "bq://proj-123456.d.t"}},
            "BS220",
            "spec.input.format",
            "mlengine cannot read BIGQUERY",
        ),
        (
            Target.MLENGINE,
            {
                "region": "europe-west4",
                "model": {"resource": "projects/proj-123456/locations/europe-west4/models/1"},
            },
            "BS211",
            "spec.region",
            "mlengine does not run batch prediction in region 'europe-west4'",
        ),
        (
            Target.MLENGINE,
            {"input": {"format": "CSV"}},
            "BS220",
            "spec.input.format",
            "ML Engine writes CSV but never reads it",
        ),
        (
            Target.GENAI,
            {"input": {"format": "CSV"}},
            "BS220",
            "spec.input.format",
            "genai cannot read CSV",
        ),
        (Target.LOCAL, {}, "BS251", "spec.model.resource", "local cannot use a model"),
    ],
)
def test_spec_valid_for_vertex_but_not_for_another_target(
    target: Target, changes: dict[str, Any], code: str, pointer: str, words: str
) -> None:
    doc = make_spec("vertex", changes)
    compile_spec(doc, env={})  # valid for its own target
    errors = errors_of(doc, target)
    matching = [d for d in errors if d.pointer == pointer and words in d.message]
    assert matching, [(d.code, d.pointer, d.message) for d in errors]
    assert matching[0].code == "BS300"
    assert matching[0].message.startswith(f"cannot compile for {target.value}:")
    assert f"[{code}]" in matching[0].message


@pytest.mark.parametrize(
    ("target", "changes", "pointer"),
    [
        (Target.MLENGINE, {"input": {"keyField": "id"}}, "spec.input.keyField"),
        (
            Target.MLENGINE,
            {"encryptionKeyName": f"{PROJECT_LOCATION}/keyRings/k/cryptoKeys/c"},
            "spec.encryptionKeyName",
        ),
        (Target.GENAI, {"serviceAccount": "a@p.iam.gserviceaccount.com"}, "spec.serviceAccount"),
        (Target.GENAI, {"modelParameters": {"t": 1}}, "spec.modelParameters"),
        (
            Target.VERTEX,
            {"input": {"format": "TF_RECORD", "tfRecordDecode": "example"}},
            "spec.input.tfRecordDecode",
        ),
    ],
)
def test_settings_a_target_cannot_carry_are_errors(
    target: Target, changes: dict[str, Any], pointer: str
) -> None:
    doc = structural_spec(target.value, changes)
    errors = errors_of(doc, target)
    assert [(d.code, d.pointer) for d in errors] == [("BS301", pointer)]
    assert ("BS301", pointer) in validate_codes(doc)  # validate refuses it first


def test_ignored_tuning_settings_are_warnings_and_compile_still_works() -> None:
    doc = make_spec("vertex", {"resources": {"maxWorkerCount": 4}, "output": {"overwrite": True}})
    job, warnings = compile_with_diagnostics(doc, env={})
    assert job.body
    assert {(d.code, d.pointer, d.severity) for d in warnings} == {
        ("BS301", "spec.resources.maxWorkerCount", Severity.WARNING),
        ("BS301", "spec.output.overwrite", Severity.WARNING),
    }


def test_model_in_another_region() -> None:
    doc = structural_spec(
        "vertex", {"model": {"resource": "projects/proj-123456/locations/europe-west4/models/1"}}
    )
    assert ("BS302", "spec.model.resource") in validate_codes(doc)
    [error] = errors_of(doc)
    assert error.code == "BS302" and error.pointer == "spec.model.resource"
    assert "europe-west4" in error.message and "us-central1" in error.message


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"nested": [1, float("-inf")]}])
def test_values_json_cannot_carry(value: Any) -> None:
    doc = structural_spec("vertex", {"modelParameters": {"x": value}})
    assert {code for code, _ in validate_codes(doc)} == {"BS303"}
    errors = errors_of(doc)
    assert {d.code for d in errors} == {"BS303"}
    assert errors[0].pointer.startswith("spec.modelParameters.x")


def test_compile_error_lists_everything_and_builds_nothing() -> None:
    doc = make_spec(
        "vertex",
        {
            "project": None,
            "input": {"format": "CSV", "keyField": "id"},
            "serviceAccount": "a@p.iam.gserviceaccount.com",
        },
    )
    errors = errors_of(doc, Target.GENAI)
    assert len({d.pointer for d in errors}) == 4
    all_problems = compile_diagnostics(doc, target=Target.GENAI, env={})
    assert [d for d in all_problems if d.is_error] == errors


def test_own_target_of_a_valid_spec_has_no_new_diagnostics() -> None:
    doc = make_spec("vertex")
    assert compile_diagnostics(doc, env={}) == []
