"""Rules for one `kind: Model` document, each from the service that stores it.

Sources: the aiplatform v1 discovery document's descriptions of
`UploadModelRequest` (modelId, parentModel), `Model` (displayName, labels,
versionAliases, artifactUri) and `ModelContainerSpec` (imageUri, env, ports,
routes), and Vertex AI's custom-container requirements page
(https://cloud.google.com/vertex-ai/docs/predictions/custom-container-requirements),
which names the AIP_* variables the service sets. Rules that need other
documents (references, cycles, unique names) are in `validate.references`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from batchspec.diagnostics import Diagnostic, DocPath
from batchspec.model.enums import Severity
from batchspec.model.limits import JOB_NAME_MAX, JOB_NAME_PATTERN, MODEL_ID_MAX
from batchspec.patterns import lazy
from batchspec.validate import targets
from batchspec.validate.rules.labels import model_labels

if TYPE_CHECKING:
    from batchspec.model.modelspec import ModelDocument

ModelRule = Callable[["ModelDocument"], Iterator[Diagnostic]]

REVISION_ALIAS_PREFIX = "bs-"
_NAME = lazy(JOB_NAME_PATTERN)
_MODEL_ID = lazy(r"^[a-z_][a-z0-9_-]*$")
_MODEL_RESOURCE = lazy(r"^projects/([^/]+)/locations/([^/]+)/models/([^/@]+)$")
_ALIAS = lazy(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$")
_ENV_NAME = lazy(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IMAGE = lazy(
    r"^(?P<host>[a-z0-9.-]+(:[0-9]+)?)/(?P<path>[a-z0-9._/-]+)(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})?$"
)
_REGISTRIES = lazy(r"^([a-z0-9-]+-docker\.pkg\.dev|([a-z]+\.)?gcr\.io)$")
MAX_ENV = 200  # ModelContainerSpec.env: "At most 200 environment variables"
_MODEL = ("spec",)


def _err(code: str, msg: str, path: DocPath, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, msg, path=path, hint=hint)


def _warn(code: str, msg: str, path: DocPath, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, msg, severity=Severity.WARNING, path=path, hint=hint)


def default_model_id(name: str) -> str:
    """The model id a document without `modelId` gets: its name in lowercase."""
    return name.lower()


def model_name(doc: ModelDocument) -> Iterator[Diagnostic]:
    """BS400: names in the specs follow the job-name rule (jobs refer to them)."""
    name, path = doc.metadata.name, ("metadata", "name")
    if len(name) > JOB_NAME_MAX or not _NAME.match(name):
        yield _err(
            "BS400",
            f"model name {name!r}: letters, digits and underscores, a letter first, at most"
            f" {JOB_NAME_MAX} characters",
            path,
        )


def model_id(doc: ModelDocument) -> Iterator[Diagnostic]:
    """BS404: UploadModelRequest.modelId is up to 63 of `[a-z0-9_-]`, not starting
    with a digit or `-`; parentModel is one model resource, without a version."""
    spec = doc.spec
    given = spec.model_id
    value = given if given is not None else default_model_id(doc.metadata.name)
    path = ("spec", "modelId") if given is not None else ("metadata", "name")
    if len(value) > MODEL_ID_MAX or not _MODEL_ID.match(value):
        what = "modelId" if given is not None else f"the model id taken from the name ({value})"
        yield _err(
            "BS404",
            f"{what}: up to {MODEL_ID_MAX} of lowercase letters, digits, `_` and `-`, not"
            " starting with a digit or `-`",
            path,
            hint=None if given is not None else "set spec.modelId",
        )
    parent = spec.parent_model
    if parent is None:
        return
    base = ("spec", "parentModel")
    ways = [k for k in ("ref", "resource") if getattr(parent, k) is not None]
    if len(ways) != 1:
        yield _err("BS404", "parentModel takes exactly one of `ref` and `resource`", base)
    if given is not None:
        yield _err(
            "BS404",
            "modelId and parentModel exclude each other: a version goes under its parent's id",
            ("spec", "modelId"),
        )
    if parent.resource is not None and not _MODEL_RESOURCE.match(parent.resource):
        yield _err(
            "BS404",
            f"parentModel.resource {parent.resource!r} is not a model",
            (*base, "resource"),
            hint="projects/P/locations/L/models/ID (no @version: versions go under the model)",
        )


def region(doc: ModelDocument) -> Iterator[Diagnostic]:
    """BS211: models live in a Vertex AI region (google-cloud-aiplatform's list);
    `global` serves publisher models only."""
    value = doc.spec.region
    if value is None:
        return
    if value == "global" or value not in targets.VERTEX_REGIONS:
        yield _err(
            "BS211",
            f"Vertex AI cannot hold a model in {value!r}",
            ("spec", "region"),
            hint="a region from google-cloud-aiplatform's SUPPORTED_REGIONS, e.g. us-central1"
            " (`global` serves publisher models only)",
        )


def labels(doc: ModelDocument) -> Iterator[Diagnostic]:
    """BS260: Model.labels follow Google Cloud's label rules."""
    yield from model_labels(doc.metadata.labels)


def container(doc: ModelDocument) -> Iterator[Diagnostic]:
    """BS405: ModelContainerSpec as the service takes it."""
    spec, base = doc.spec.container, ("spec", "container")
    found = _IMAGE.match(spec.image_uri)
    if found is None:
        yield _err(
            "BS405",
            f"imageUri {spec.image_uri!r} is not an image reference",
            (*base, "imageUri"),
            hint="REGISTRY/PATH:TAG, e.g. us-docker.pkg.dev/P/repo/server:1.2",
        )
    elif not _REGISTRIES.match(found["host"]):
        yield _err(
            "BS405",
            f"imageUri {spec.image_uri!r}: Vertex AI takes images from Artifact Registry"
            " (*-docker.pkg.dev) or Container Registry (*gcr.io)",
            (*base, "imageUri"),
            hint="push the image there (docker tag + docker push) and name that copy",
        )
    for key, route in (("predictRoute", spec.predict_route), ("healthRoute", spec.health_route)):
        if route is not None and not route.startswith("/"):
            yield _err(
                "BS405", f"{key} {route!r} is not an HTTP path", (*base, key), hint=f"/{route}"
            )
    if len(spec.env) > MAX_ENV:
        yield _err("BS405", f"{len(spec.env)} variables; the service takes {MAX_ENV}", base)
    for name in spec.env:
        where = (*base, "env", name)
        if not _ENV_NAME.match(name):
            yield _err("BS405", f"variable name {name!r} is not a C identifier", where)
        elif name.startswith("AIP_"):
            yield _warn(
                "BS405",
                f"{name} is set by Vertex AI itself and may override this value",
                where,
                hint="the AIP_* variables are the service's (custom-container requirements)",
            )
    ports = spec.ports or []
    if len(set(ports)) != len(ports):
        yield _err("BS405", "a port is listed twice", (*base, "ports"))


def artifact(doc: ModelDocument) -> Iterator[Diagnostic]:
    """BS406: Model.artifactUri is a Cloud Storage folder the service copies."""
    uri = doc.spec.artifact_uri
    if uri is not None and not uri.startswith("gs://"):
        yield _err(
            "BS406",
            f"artifactUri must be a Cloud Storage folder: {uri!r}",
            ("spec", "artifactUri"),
            hint="gs://bucket/path/to/model/ (for local runs set spec.local.storageUri)",
        )


def aliases(doc: ModelDocument) -> Iterator[Diagnostic]:
    """BS407: Model.versionAliases are `[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]`;
    batchspec's own revision aliases start with `bs-`."""
    base = ("spec", "versionAliases")
    for i, alias in enumerate(doc.spec.version_aliases):
        if not _ALIAS.match(alias):
            yield _err(
                "BS407",
                f"version alias {alias!r}: a lowercase letter first, then letters, digits and"
                " `-`, ending in a lowercase letter or digit, at most 128",
                (*base, i),
            )
        elif alias.startswith(REVISION_ALIAS_PREFIX):
            yield _err(
                "BS407",
                f"version alias {alias!r}: aliases starting with `{REVISION_ALIAS_PREFIX}`"
                " name batchspec's revisions",
                (*base, i),
            )
    if len(set(doc.spec.version_aliases)) != len(doc.spec.version_aliases):
        yield _err("BS407", "a version alias is listed twice", base)


def local(doc: ModelDocument) -> Iterator[Diagnostic]:
    """BS408: `engine: host` needs the host command that stands in for the image."""
    settings = doc.spec.local
    if settings.engine == "host" and settings.command is None:
        yield _err(
            "BS408",
            "local.engine is host, but local.command is not set",
            ("spec", "local", "command"),
            hint="the command that starts the same server on this machine, e.g."
            " [python, server.py]",
        )


MODEL_RULES: tuple[ModelRule, ...] = (
    model_name,
    model_id,
    region,
    labels,
    container,
    artifact,
    aliases,
    local,
)


def check_model_rules(doc: ModelDocument) -> list[Diagnostic]:
    """Run every single-document rule of a Model document."""
    return [d for rule in MODEL_RULES for d in rule(doc)]


__all__ = [
    "MODEL_RULES",
    "REVISION_ALIAS_PREFIX",
    "check_model_rules",
    "default_model_id",
]
