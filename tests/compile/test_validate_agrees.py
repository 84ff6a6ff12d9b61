"""`batchspec validate` refuses everything compiling (and so `plan` and
`render --check`) would refuse: for every case of every rule family, a spec
validate accepts compiles for its own target, with no error, into a body
that the service's discovery schema and (for Vertex AI) its protobuf types
accept."""

from __future__ import annotations

import pytest

from batchspec.compile import compile_diagnostics, compile_spec
from batchspec.compile.conformance import conformance_problems
from batchspec.model.enums import Target
from batchspec.validate.structure import check_structure
from tests.compile.test_conformance import parse_with_aiplatform_protos
from tests.validate import (
    test_family_formats,
    test_family_genai,
    test_family_labels,
    test_family_models,
    test_family_resources,
    test_family_storage,
)
from tests.validate.cases import Case, diagnose, ids

ALL_CASES: list[Case] = [
    *test_family_storage.GCS,
    *test_family_storage.BQ,
    *test_family_models.CASES,
    *test_family_labels.CASES,
    *test_family_formats.CASES,
    *test_family_resources.RESOURCES,
    *test_family_resources.ACCESS,
    *test_family_genai.CASES,
]


def test_the_case_ids_are_unique() -> None:
    assert len(set(ids(ALL_CASES))) == len(ALL_CASES)


@pytest.mark.parametrize("case", ALL_CASES, ids=ids(ALL_CASES))
def test_what_validate_accepts_compiles_and_conforms(case: Case) -> None:
    spec, found = diagnose(case)
    typed, _ = check_structure(case.document())
    if typed is None:
        return  # a structure error: nothing reaches the compiler
    compiled = [d for d in compile_diagnostics(typed, env={}) if d.is_error]
    if spec is None:
        assert any(d.is_error for d in found)
        return
    assert compiled == [], f"validate accepted what compiling refuses: {compiled}"
    job = compile_spec(spec, env={})
    assert [str(p) for p in conformance_problems(job)] == []
    if job.target is Target.VERTEX:
        parse_with_aiplatform_protos(job.body)
