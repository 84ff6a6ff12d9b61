"""Labels, by the service that stores them, each case with its source."""

from __future__ import annotations

import pytest

from tests.validate.cases import Case, check_case, ids

VERTEX = "aiplatform v1 BatchPredictionJob.labels (64 code points, international characters)"
GOOGLE = "https://cloud.google.com/resource-manager/docs/labels-overview#requirements"
MLE = "https://cloud.google.com/ai-platform/prediction/docs/resource-labels"
GEMINI = "google-genai batches._CreateBatchJobConfig_to_mldev (no labels)"
L = "metadata.labels"


def labels(items: dict[str, str]) -> dict[str, object]:
    return {"labels": items}


def case(
    id: str,
    base: str,
    items: dict[str, str],
    code: str | None,
    source: str,
    path: str | None = None,
    warn: bool = False,
) -> Case:
    key = next(iter(items), "")
    where = path or (f"{L}.{key}" if code else None)
    return Case(id, base, {}, code, where, source, warn, labels(items))


MANY = {f"k{i}": "v" for i in range(61)}
CASES: list[Case] = [
    case("vertex-plain", "vertex", {"team": "growth"}, None, VERTEX),
    case("vertex-international-key", "vertex", {"équipe": "croissance"}, None, VERTEX),
    case("vertex-cjk", "vertex", {"チーム": "成長"}, None, VERTEX),
    case("vertex-empty-value", "vertex", {"team": ""}, None, GOOGLE),
    case("vertex-key-63", "vertex", {"k" * 63: "v"}, None, VERTEX),
    case(
        "vertex-key-64-warns", "vertex", {"k" * 64: "v"}, "BS260", f"{VERTEX}; {GOOGLE}", warn=True
    ),
    case("vertex-key-65", "vertex", {"k" * 65: "v"}, "BS260", VERTEX),
    case("vertex-value-64-warns", "vertex", {"team": "v" * 64}, "BS260", VERTEX, warn=True),
    case("vertex-value-65", "vertex", {"team": "v" * 65}, "BS260", VERTEX),
    case("vertex-upper-key", "vertex", {"Team": "growth"}, "BS260", VERTEX),
    case("vertex-upper-value", "vertex", {"team": "Growth"}, "BS260", VERTEX),
    case("vertex-digit-first", "vertex", {"1team": "x"}, "BS260", GOOGLE),
    case("vertex-underscore-first", "vertex", {"_team": "x"}, "BS260", GOOGLE),
    case("vertex-dot", "vertex", {"team.name": "x"}, "BS260", VERTEX),
    case("vertex-space-value", "vertex", {"team": "a b"}, "BS260", VERTEX),
    case("vertex-61-labels", "vertex", MANY, None, f"{GOOGLE} (64, 3 of them batchspec's)"),
    case("vertex-62-labels", "vertex", {**MANY, "k61": "v"}, "BS260", GOOGLE, path=L),
    case("genai-follows-vertex", "genai", {"Team": "x"}, "BS260", VERTEX),
    case("genai-international", "genai", {"équipe": "x"}, None, VERTEX),
    case("mle-key-63", "mlengine", {"k" * 63: "v"}, None, MLE),
    case("mle-key-64", "mlengine", {"k" * 64: "v"}, "BS260", MLE),
    case("mle-international", "mlengine", {"équipe": "croissance"}, None, MLE),
    case("mle-upper", "mlengine", {"Team": "x"}, "BS260", MLE),
    case("gemini-no-labels", "gemini", {"team": "x"}, "BS260", GEMINI, path=L),
    case("local-any-label", "local", {"Team": "Growth"}, None, "local jobs store no labels"),
    case(
        "reserved-on-local",
        "local",
        {"batchspec-fp": "abc"},
        "BS260",
        "batchspec identity (exactly-once submission)",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_labels(case: Case) -> None:
    check_case(case)
