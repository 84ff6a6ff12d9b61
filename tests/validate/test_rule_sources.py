"""Every rule cites its source, in code and in docs/diagnostics.md, and guards
only the services it names."""

from __future__ import annotations

from batchspec.codes import CODES
from batchspec.validate.rules import RULES_CITED
from batchspec.validate.rules.core import BATCHSPEC, ENGINES, GENAI, MLENGINE, VERTEX
from tests.conftest import REPO
from tests.validate.cases import diagnose
from tests.validate.test_family_formats import CASES as FORMATS
from tests.validate.test_family_genai import CASES as GENAI_CASES
from tests.validate.test_family_labels import CASES as LABELS
from tests.validate.test_family_models import CASES as MODELS
from tests.validate.test_family_resources import ACCESS, RESOURCES
from tests.validate.test_family_storage import BQ, GCS

SERVICES = {VERTEX, GENAI, MLENGINE, BATCHSPEC, *ENGINES}
DOCS = (REPO / "docs" / "diagnostics.md").read_text()


def test_every_rule_has_a_source_a_documented_code_and_known_services() -> None:
    assert len(RULES_CITED) >= 60
    for rule in RULES_CITED.values():
        assert rule.source.strip(), rule.id
        assert rule.code in CODES, rule.id
        assert rule.services and set(rule.services) <= SERVICES, rule.id


def test_docs_list_every_rule_with_its_source() -> None:
    missing = [
        r.id for r in RULES_CITED.values() if f"| `{r.id}` |" not in DOCS or r.source not in DOCS
    ]
    assert missing == [], "docs/diagnostics.md lacks these rules or their sources"


def test_no_hint_says_eg_twice() -> None:
    for case in [*GCS, *BQ, *MODELS, *LABELS, *FORMATS, *RESOURCES, *ACCESS, *GENAI_CASES]:
        for d in diagnose(case)[1]:
            assert "e.g. e.g." not in f"{d.message} {d.hint}", (case.id, d)
