"""What every rule module shares: cited rules, the check signature, helpers.

A *rule* here is one documented constraint of one service (or of batchspec
itself), with the reference it comes from. Checks emit diagnostics only
through a rule (`RULE.error(...)`), so the source of every refusal sits next
to the code that refuses, and `RULES_CITED` lists them all for the docs
(docs/diagnostics.md has one row per rule; a test keeps the two in step).

A rule of one service is never applied to another: each rule names the
services it guards, and checks ask `applies(rule, doc)` before looking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Final, NamedTuple

from batchspec.diagnostics import Diagnostic, DocPath
from batchspec.model.enums import Severity, Target

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

Check = Callable[["BatchPredictionJobSpec"], Iterator[Diagnostic]]

# Who a rule guards: the four targets, or batchspec itself (its own spec
# language, identity and local engine).
VERTEX: Final = Target.VERTEX.value
GENAI: Final = Target.GENAI.value
MLENGINE: Final = Target.MLENGINE.value
LOCAL: Final = Target.LOCAL.value
RAY: Final = Target.RAY.value
BATCHSPEC: Final = "batchspec"
ENGINES: Final = (LOCAL, RAY)


class Rule(NamedTuple):
    """One constraint, its diagnostic code, whom it guards, and where it is written down."""

    id: str
    code: str
    services: tuple[str, ...]
    summary: str
    source: str

    def error(self, message: str, path: DocPath, hint: str | None = None) -> Diagnostic:
        """An error diagnostic for this rule."""
        return Diagnostic(self.code, message, path=path, hint=hint)

    def warning(self, message: str, path: DocPath, hint: str | None = None) -> Diagnostic:
        """A warning diagnostic for this rule (the service may still accept it)."""
        return Diagnostic(self.code, message, severity=Severity.WARNING, path=path, hint=hint)


RULES_CITED: Final[dict[str, Rule]] = {}


def rule(id: str, code: str, services: tuple[str, ...], summary: str, source: str) -> Rule:
    """Declare (and register) a cited rule; ids are unique."""
    if id in RULES_CITED:
        raise ValueError(f"rule {id!r} declared twice")
    declared = Rule(id, code, services, summary, source)
    RULES_CITED[id] = declared
    return declared


_SERVICE: Final = {target: target.value for target in Target}  # `.value` is a slow enum property
# Members read once: `Target.VERTEX` is a slow lookup on an enum class too
# (a tenth of a microsecond, and every check asks).
_ON_VERTEX, _ON_GENAI = Target.VERTEX, Target.GENAI


def target_of(doc: BatchPredictionJobSpec) -> str:
    """The target a spec is checked for, as the service name rules use."""
    return _SERVICE[doc.spec.target]


def applies(declared: Rule, doc: BatchPredictionJobSpec) -> bool:
    """True when `declared` guards the spec's target."""
    return _SERVICE[doc.spec.target] in declared.services  # `target_of`, without its call


def on_vertex_service(doc: BatchPredictionJobSpec) -> bool:
    """True when the job runs as a Vertex AI BatchPredictionJob: target vertex,
    or genai through Vertex (google-genai creates the same resource)."""
    target = doc.spec.target
    return target is _ON_VERTEX or (target is _ON_GENAI and not gemini_api(doc))


def gemini_api(doc: BatchPredictionJobSpec) -> bool:
    """True for a genai spec that uses the Gemini Developer API (an API key)
    rather than Vertex AI."""
    spec = doc.spec
    genai = spec.genai
    return genai is not None and spec.target is _ON_GENAI and genai.api == "gemini"


def is_set(model: object, field: str) -> bool:
    """True when a pydantic model's field was written in the spec (not defaulted)."""
    fields: AbstractSet[str] = getattr(model, "model_fields_set", frozenset())  # views: a frozenset
    return field in fields


__all__ = [
    "BATCHSPEC",
    "ENGINES",
    "GENAI",
    "LOCAL",
    "MLENGINE",
    "RAY",
    "RULES_CITED",
    "VERTEX",
    "Check",
    "Rule",
    "applies",
    "gemini_api",
    "is_set",
    "on_vertex_service",
    "rule",
    "target_of",
]
