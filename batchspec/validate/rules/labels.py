"""Labels, by the rules of the service that stores them.

Vertex AI's `BatchPredictionJob.labels` (also what google-genai sends through
Vertex) allows keys and values of up to 64 Unicode code points of lowercase
letters, digits, `_` and `-`, international characters included, and points
to Google's label requirements, which add: at most 64 labels, keys start
with a lowercase letter or an international character, values may be empty,
and (there) at most 63 characters. batchspec takes the field's own 64 and
warns at exactly 64, where the two pages disagree. Cloud ML Engine's label
page says 63. The Gemini Developer API has no labels at all. batchspec adds
three labels of its own, so a spec may hold at most 61.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from batchspec.diagnostics import Diagnostic
from batchspec.patterns import lazy
from batchspec.validate.rules import names
from batchspec.validate.rules.common import RESERVED_LABELS
from batchspec.validate.rules.core import (
    GENAI,
    MLENGINE,
    VERTEX,
    Rule,
    gemini_api,
    rule,
    target_of,
)

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

MAX_LABELS: Final = 64
OURS: Final = 3  # batchspec sets three on each job (and each uploaded model), of RESERVED_LABELS

VERTEX_LABELS: Final = rule(
    "vertex-labels",
    "BS260",
    (VERTEX, GENAI),
    "Keys and values: at most 64 Unicode code points (64 itself warned) of lowercase letters,"
    " digits, `_`, `-`, international characters allowed; keys non-empty, starting with a"
    " lowercase letter or an international character; at most 64 labels (61 besides"
    " batchspec's 3)",
    "aiplatform v1 BatchPredictionJob.labels;"
    " https://cloud.google.com/resource-manager/docs/labels-overview#requirements",
)
MLENGINE_LABELS: Final = rule(
    "mlengine-labels",
    "BS260",
    (MLENGINE,),
    "Keys and values: at most 63 characters of lowercase letters, digits, `_`, `-`,"
    " international characters allowed; keys start with a letter; at most 64 labels (61"
    " besides batchspec's 3)",
    "https://cloud.google.com/ai-platform/prediction/docs/resource-labels",
)
GEMINI_API_LABELS: Final = rule(
    "gemini-api-no-labels",
    "BS260",
    (GENAI,),
    "Gemini Developer API batches carry no labels",
    "google-genai batches._CreateBatchJobConfig_to_mldev (display_name and webhook_config only)",
)
_LIMITS: Final[dict[str, tuple[Rule, int]]] = {
    VERTEX: (VERTEX_LABELS, 64),
    MLENGINE: (MLENGINE_LABELS, 63),
}
_FIX: Final = lazy(r"[^\w-]|[A-Z]")


def labels(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The label rules of the service that will store the labels."""
    items, base = doc.metadata.labels, ("metadata", "labels")
    if gemini_api(doc):
        if items:
            yield GEMINI_API_LABELS.error(
                "the Gemini Developer API stores no labels", base, hint="remove `labels`"
            )
        return
    if not items:
        return
    service = target_of(doc)
    if service == GENAI:  # not the Gemini Developer API: through Vertex (`on_vertex_service`)
        service = VERTEX
    if service in _LIMITS:
        yield from _service_labels(service, tuple(items.items()))


@functools.lru_cache(maxsize=4096)
def _service_labels(service: str, items: tuple[tuple[str, str], ...]) -> tuple[Diagnostic, ...]:
    """What `service`'s label rules say of `items`, remembered: a tree's
    specs carry the same few labels (diagnostics are immutable, so sharing
    them is safe)."""
    cited, limit = _LIMITS[service]
    base = ("metadata", "labels")
    found = list(_count(cited, dict(items), base))
    for key, value in items:
        if key not in RESERVED_LABELS:
            found.extend(_one(cited, limit, key, value, (*base, key), vertex=service == VERTEX))
    return tuple(found)


def _count(cited: Rule, items: dict[str, str], base: tuple[str, ...]) -> Iterator[Diagnostic]:
    if len(items) > MAX_LABELS - OURS:
        yield cited.error(
            f"{len(items)} labels; at most {MAX_LABELS - OURS} leave room for batchspec's {OURS}",
            base,
        )


def model_labels(
    items: dict[str, str], base: tuple[str, ...] = ("metadata", "labels")
) -> Iterator[Diagnostic]:
    """BS260 for a `kind: Model`'s labels: Vertex AI's label rules (aiplatform v1
    `Model.labels` describes the same requirements as BatchPredictionJob's),
    and batchspec's own keys (it sets them on every uploaded model)."""
    cited, limit = _LIMITS[VERTEX]
    yield from _count(cited, items, base)
    for key, value in items.items():
        if key in RESERVED_LABELS:
            yield cited.error(f"label `{key}` is set by batchspec", (*base, key))
            continue
        yield from _one(cited, limit, key, value, (*base, key), vertex=True)


def _one(
    cited: Rule, limit: int, key: str, value: str, where: tuple[str, ...], *, vertex: bool
) -> Iterator[Diagnostic]:
    for kind, text in (("key", key), ("value", value)):
        problem = names.label_text_problem(text, key=kind == "key")
        if problem:
            yield cited.error(
                f"label {kind} {text!r}: {problem}",
                where,
                hint=f"for example `{_suggest(text)}`" if kind == "key" else None,
            )
        if len(text) > limit:
            yield cited.error(
                f"label {kind} {text!r} is {len(text)} characters; the limit is {limit}", where
            )
        elif vertex and len(text) == limit:
            yield cited.warning(
                f"label {kind} is 64 characters: Vertex AI's reference allows 64, Google's"
                " label requirements say 63",
                where,
                hint="shorten it to 63 to be safe",
            )


def _suggest(key: str) -> str:
    fixed = _FIX.sub(lambda m: m.group().lower() if m.group().isupper() else "-", key)
    if not fixed[:1].isalpha():
        fixed = "k" + fixed
    return fixed[:63]


__all__ = ["MAX_LABELS", "labels", "model_labels"]
