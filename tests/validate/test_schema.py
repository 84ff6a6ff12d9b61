"""The published JSON Schema: committed, fresh, and in agreement with the validator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from batchspec.model.jsonschema import schema_text, spec_schema, structure_text
from batchspec.model.view import STRUCTURE_SCHEMA
from batchspec.validate import validate_paths
from tests.conftest import REPO, SPECS
from tests.validate.helpers import DROP, document, dump

SCHEMA_FILE = REPO / "schema" / "batchspec.v1.schema.json"


def test_committed_schema_is_fresh() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "schema/ is stale: run scripts/regen-schema (it writes batchspec/data/ too)"
    )


def test_packaged_structure_schema_is_fresh() -> None:
    """`validate`'s fast lane reads it (batchspec.validate.fastlane)."""
    assert STRUCTURE_SCHEMA.read_text() == structure_text(), (
        "batchspec/data/structure.v1.schema.json is stale: run scripts/regen-schema"
    )


def test_schema_is_draft_2020_12() -> None:
    schema = spec_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_example_specs_point_editors_at_the_schema() -> None:
    for path in SPECS.glob("*.yaml"):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/batchspec.v1.schema.json"


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_examples_pass_the_published_schema(path: Path) -> None:
    for doc in YAML(typ="safe").load_all(path.read_text()):
        assert list(_validator().iter_errors(doc)) == []


STRUCTURAL: dict[str, dict[str, Any]] = {
    "unknown-key": document("vertex", colour="red"),
    "wrong-type": document("vertex", **{"resources.batchSize": "64"}),
    "bad-enum": document("vertex", **{"input.format": "XML"}),
    "missing": document("vertex", input=DROP),
    "range": document("vertex", **{"resources.maxWorkerCount": 0}),
    "runner": document("local", **{"model.local": {"runner": "tf"}}),
    "name-pattern": document("vertex", "bad-name"),
    "name-length": document("vertex", "a" * 129),
    "deadline-pattern": document("vertex", **{"policy.deadline": "soon"}),
}


@pytest.mark.parametrize("case", sorted(STRUCTURAL))
def test_schema_and_validator_agree_on_invalid(tmp_path: Path, case: str) -> None:
    doc = STRUCTURAL[case]
    assert list(_validator().iter_errors(doc)), "the published schema accepted it"
    path = tmp_path / "s.yaml"
    path.write_text(dump(doc))
    assert not validate_paths([str(path)]).ok, "the validator accepted it"
