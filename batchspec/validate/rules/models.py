"""Model names, by each service's documented resource-name forms, and where
the model must live relative to the job.

Vertex AI's `BatchPredictionJob.model` takes a Model resource
(`projects/P/locations/L/models/ID`, optionally `@version-id` or `@alias`) or
a publisher model (`publishers/PUB/models/M`, optionally location-qualified).
google-genai also expands short forms (`gemini-2.0-flash` ->
`publishers/google/models/gemini-2.0-flash`, `anthropic/claude-x` ->
`publishers/anthropic/models/claude-x`); batchspec expands them the same way
for target vertex, so a spec means the same model on both. Cloud ML Engine
names models `M` or `projects/P/models/M`, with its own naming rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, NamedTuple

from batchspec.diagnostics import Diagnostic
from batchspec.patterns import lazy
from batchspec.validate.rules import names
from batchspec.validate.rules.core import GENAI, MLENGINE, VERTEX, gemini_api, rule, target_of
from batchspec.validate.rules.storage import gcs_problems

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec, ModelRef

GOOGLE: Final = "google"
_ID: Final = r"[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._-]+)?"
_VERTEX_MODEL: Final = lazy(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/models/(?P<id>[^/@]+)"
    r"(@(?P<version>[^/@]+))?$"
)
_MODEL_ID: Final = lazy(r"^([0-9]+|[a-z_][a-z0-9_-]{0,62})$")
_VERSION: Final = lazy(r"^([0-9]+|[a-z][a-zA-Z0-9-]{0,126}[a-z0-9])$")
_PUBLISHER: Final = lazy(
    r"^(projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/)?"
    rf"publishers/(?P<publisher>[a-z0-9][a-z0-9-]*)/models/(?P<id>{_ID})$"
)
_SHORT: Final = lazy(rf"^((?P<publisher>[a-z0-9][a-z0-9-]*)/)?(?P<id>{_ID})$")
_GEMINI_API_MODEL: Final = lazy(rf"^((models|tunedModels)/)?{_ID}$")
_MLE_NAME: Final = lazy(r"^(projects/(?P<project>[^/]+)/models/)?(?P<id>[^/]+)$")
_MLE_ID: Final = lazy(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")

RESOURCE: Final = rule(
    "vertex-model-resource",
    "BS254",
    (VERTEX, GENAI),
    "A Vertex Model is projects/P/locations/L/models/ID[@VERSION]: ID is digits or up to 63"
    " of `[a-z0-9_-]` (not starting with a digit or `-`); VERSION is a version id (digits)"
    " or an alias `[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]`",
    "aiplatform v1 BatchPredictionJob.model; UploadModelRequest.model_id; Model.version_aliases",
)
PUBLISHER: Final = rule(
    "vertex-publisher-model",
    "BS254",
    (VERTEX, GENAI),
    "A publisher model is publishers/PUB/models/M or"
    " projects/P/locations/L/publishers/PUB/models/M; the short forms M and PUB/M are"
    " expanded as google-genai expands them; `models/M` is the Gemini Developer API's form",
    "aiplatform v1 BatchPredictionJob.model; google-genai _transformers.t_model",
)
GENAI_CHARS: Final = rule(
    "genai-model-characters",
    "BS254",
    (GENAI,),
    "google-genai refuses model names containing `..`, `?` or `&`",
    "google-genai _transformers.t_model",
)
GEMINI_API_MODEL: Final = rule(
    "gemini-api-model",
    "BS254",
    (GENAI,),
    "The Gemini Developer API names models models/M, tunedModels/M or M",
    "google-genai _transformers.t_model (Gemini Developer API branch)",
)
MLE_MODEL: Final = rule(
    "mlengine-model-name",
    "BS254",
    (MLENGINE,),
    "ML Engine model and version names: letters, digits, underscores, a letter first, at"
    " most 128 characters; models as M or projects/P/models/M; uri is a Cloud Storage folder",
    "ml v1 PredictionInput.modelName/versionName/uri;"
    " https://cloud.google.com/ai-platform/prediction/docs/managing-models-jobs",
)
LOCATION: Final = rule(
    "model-job-location",
    "BS302",
    (VERTEX, GENAI),
    "A Model resource (or a location-qualified publisher model) is in the job's own location",
    'aiplatform v1 BatchPredictionJob.model ("must share the same ancestor Location")',
)
GLOBAL: Final = rule(
    "global-publisher-only",
    "BS302",
    (VERTEX, GENAI),
    "Location `global` runs batch jobs for publisher models only, not for Model resources"
    " (tuned or uploaded models)",
    "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/"
    "batch-prediction-from-cloud-storage (\"The global endpoint isn't supported for batch"
    ' inference using tuned models")',
)


class PublisherModel(NamedTuple):
    """A publisher model as the service sees it, after short-form expansion."""

    publisher: str
    id: str
    project: str | None = None
    location: str | None = None

    @property
    def name(self) -> str:
        """The full name the request carries."""
        base = f"publishers/{self.publisher}/models/{self.id}"
        if self.location is None:
            return base
        return f"projects/{self.project}/locations/{self.location}/{base}"

    @property
    def gemini(self) -> bool:
        """True for Google's Gemini models (their batch rules are documented apart)."""
        return self.publisher == GOOGLE and self.id.startswith("gemini")


@functools.lru_cache(maxsize=4096)
def publisher_model(value: str) -> PublisherModel | None:
    """The publisher model a `publisher:` value names, or None when malformed
    (remembered: three checks ask of each spec, and a tree names few models)."""
    full = _PUBLISHER.match(value)
    if full:
        return PublisherModel(full["publisher"], full["id"], full["project"], full["location"])
    short = _SHORT.match(value)
    if short and not value.startswith(("models/", "projects/", "publishers/")):
        return PublisherModel(short["publisher"] or GOOGLE, short["id"])
    return None


@functools.lru_cache(maxsize=16)
def vertex_model(resource: str) -> re.Match[str] | None:
    """The parts of a Model resource name, or None when malformed,
    remembered a moment: `vertex_models` and `model_location` both ask of
    each spec's resource, one after the other, and a cached answer costs a
    fifth of a match. (Few entries: most specs name their own resource, so
    keeping more would only flatter a benchmark that validates twice.)"""
    return _VERTEX_MODEL.match(resource)


def expand_publisher(value: str) -> str:
    """The full publisher model name for a `publisher:` value (short forms
    expanded as google-genai does; anything else returned as written)."""
    found = publisher_model(value)
    return found.name if found is not None else value


def vertex_models(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """`resource` and `publisher` on Vertex AI (target vertex, or genai through Vertex)."""
    target = target_of(doc)
    if target not in (VERTEX, GENAI) or gemini_api(doc):
        return
    model = doc.spec.model
    resource, value = model.resource, model.publisher
    if resource is not None:
        yield from _resource_problems(resource)
    if value is None:
        return
    where = ("spec", "model", "publisher")
    if target == GENAI and (".." in value or "?" in value or "&" in value):
        yield GENAI_CHARS.error(
            f"google-genai refuses model {value!r}", where, "remove `..`, `?`, `&`"
        )
    elif value.startswith("models/"):
        yield PUBLISHER.error(
            f"{value!r} is the Gemini Developer API's model form; Vertex AI names"
            " publisher models publishers/PUB/models/M",
            where,
            hint=f"write publishers/google/models/{value.removeprefix('models/')}",
        )
    elif publisher_model(value) is None:
        yield PUBLISHER.error(
            f"malformed publisher model: {value!r}",
            where,
            hint="for example publishers/google/models/gemini-2.0-flash-001 (or"
            " gemini-2.0-flash-001, anthropic/claude-3-5-haiku@20241022)",
        )


def _resource_problems(resource: str) -> Iterator[Diagnostic]:
    where = ("spec", "model", "resource")
    found = vertex_model(resource)
    example = "projects/P/locations/R/models/ID, optionally with @VERSION or @ALIAS"
    if found is None:
        hint = f"write {example}"
        if _PUBLISHER.match(resource):
            hint = "a publisher model goes under `publisher:`"
        yield RESOURCE.error(f"malformed model resource: {resource!r}", where, hint)
        return
    problem = names.project_problem(found["project"])
    if problem:
        yield RESOURCE.error(f"project {found['project']!r} in {resource!r}: {problem}", where)
    if not _MODEL_ID.match(found["id"]):
        yield RESOURCE.error(
            f"model id {found['id']!r}: digits, or up to 63 of lowercase letters, digits,"
            " `_` and `-` not starting with a digit or `-`",
            where,
        )
    version = found["version"]
    if version is not None and not _VERSION.match(version):
        yield RESOURCE.error(
            f"model version {version!r}: a version id (digits) or an alias such as `golden`"
            " (a lowercase letter first, letters, digits and `-`, at most 128)",
            where,
        )


def gemini_api_model(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The Gemini Developer API's model forms."""
    if not gemini_api(doc):
        return
    model = doc.spec.model
    value = model.publisher
    if value is not None and (
        not _GEMINI_API_MODEL.match(value) or any(b in value for b in ("..", "?", "&"))
    ):
        yield GEMINI_API_MODEL.error(
            f"malformed Gemini Developer API model: {value!r}",
            ("spec", "model", "publisher"),
            hint="for example models/gemini-2.0-flash or gemini-2.0-flash",
        )
    if model.resource is not None:
        yield GEMINI_API_MODEL.error(
            "the Gemini Developer API has no Vertex Model resources",
            ("spec", "model", "resource"),
            hint="give `publisher: models/M` (or use genai.api: vertex)",
        )


def mlengine_models(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """ML Engine model, version and uri names."""
    if target_of(doc) != MLENGINE:
        return
    model, base = doc.spec.model, ("spec", "model")
    if model.name is not None:
        found = _MLE_NAME.match(model.name)
        if found is None or not _MLE_ID.match(found["id"]):
            yield MLE_MODEL.error(
                f"malformed model name: {model.name!r}",
                (*base, "name"),
                "letters, digits and underscores, a letter first: `census` or"
                " projects/P/models/census",
            )
        elif found["project"] and names.project_problem(found["project"]):
            yield MLE_MODEL.error(
                f"project {found['project']!r} in {model.name!r}:"
                f" {names.project_problem(found['project'])}",
                (*base, "name"),
            )
    if model.version is not None and not _MLE_ID.match(model.version):
        yield MLE_MODEL.error(
            f"malformed model version: {model.version!r}",
            (*base, "version"),
            "letters, digits and underscores, a letter first, for example `v2`",
        )
    if model.uri is not None:
        if not model.uri.startswith("gs://"):
            yield MLE_MODEL.error(
                f"model uri must be a Cloud Storage folder: {model.uri!r}",
                (*base, "uri"),
                hint="gs://bucket/path/to/saved_model",
            )
        else:
            yield from gcs_problems(model.uri, (*base, "uri"), folder=True)


def model_location(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """BS302: the model lives where the job runs; `global` takes publisher models only."""
    region = doc.spec.region
    if region is None or target_of(doc) not in (VERTEX, GENAI) or gemini_api(doc):
        return
    model = doc.spec.model
    located = _model_location(model)
    if located is not None and located[1] != region:
        key, where = located
        value = getattr(model, key)
        yield LOCATION.error(
            f"model {value!r} lives in {where}, the job runs in {region}",
            ("spec", "model", key),
            hint=f"a batch job uses a model in its own region: copy the model to {region}"
            f" or set region: {where}",
        )
    if region == "global" and model.resource is not None:
        yield GLOBAL.error(
            "location `global` runs batch jobs for publisher models only; a Model resource"
            " needs its own region",
            ("spec", "region"),
            hint="set region to the model's region",
        )


def _model_location(model: ModelRef) -> tuple[str, str] | None:
    if model.resource is not None:
        found = vertex_model(model.resource)
        return ("resource", found["location"]) if found else None
    if model.publisher is not None:
        publisher = publisher_model(model.publisher)
        if publisher is not None and publisher.location is not None:
            return ("publisher", publisher.location)
    return None


__all__ = [
    "PublisherModel",
    "expand_publisher",
    "gemini_api_model",
    "mlengine_models",
    "model_location",
    "publisher_model",
    "vertex_model",
    "vertex_models",
]
