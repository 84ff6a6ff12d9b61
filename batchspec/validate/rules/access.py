"""Who runs the job, and where: project, region, service account, encryption
key and display name, each by the rules of the service that receives it."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from batchspec.diagnostics import Diagnostic
from batchspec.model.enums import Target
from batchspec.model.retired import retirement
from batchspec.patterns import lazy
from batchspec.validate import targets
from batchspec.validate.rules import names
from batchspec.validate.rules.core import (
    GENAI,
    MLENGINE,
    VERTEX,
    Rule,
    applies,
    gemini_api,
    on_vertex_service,
    rule,
    target_of,
)

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

DISPLAY_NAME_MAX: Final = 128
_KMS: Final = lazy(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/keyRings/(?P<ring>[^/]+)/cryptoKeys/(?P<key>[^/]+)$"
)
_KMS_ID: Final = lazy(r"^[a-zA-Z0-9_-]{1,63}$")

REGIONS: Final[dict[Target, Rule]] = {
    Target.VERTEX: rule(
        "vertex-regions",
        "BS211",
        (VERTEX, GENAI),
        "Vertex AI and google-genai regions: google-cloud-aiplatform's SUPPORTED_REGIONS",
        "google-cloud-aiplatform constants/base.py SUPPORTED_REGIONS",
    ),
    Target.MLENGINE: rule(
        "mlengine-regions",
        "BS211",
        (MLENGINE,),
        "ML Engine batch prediction regions: us-central1, us-east1, europe-west1, asia-east1",
        "https://cloud.google.com/ai-platform/prediction/docs/batch-predict; https://cloud.google.com/ai-platform/prediction/docs/regions",
    ),
}
REGIONS[Target.GENAI] = REGIONS[Target.VERTEX]
PROJECT: Final = rule(
    "project-id",
    "BS262",
    (VERTEX, GENAI, MLENGINE),
    "Projects: a project id (6-30 lowercase letters, digits, hyphens; a letter first; no"
    " trailing hyphen), a domain-scoped id (example.com:my-project) or a project number",
    "https://cloud.google.com/resource-manager/reference/rest/v1/projects (projectId)",
)
SERVICE_ACCOUNT: Final = rule(
    "vertex-service-account",
    "BS263",
    (VERTEX,),
    "serviceAccount is a service account's email address (warned when not *.gserviceaccount.com)",
    "aiplatform v1 BatchPredictionJob.service_account;"
    " https://cloud.google.com/iam/docs/service-account-overview",
)
KMS_KEY: Final = rule(
    "vertex-kms-key",
    "BS264",
    (VERTEX,),
    "encryptionKeyName is projects/P/locations/L/keyRings/R/cryptoKeys/K (R and K: 1-63"
    " letters, digits, `_`, `-`), in the job's region",
    "aiplatform v1 EncryptionSpec.kms_key_name; https://cloud.google.com/kms/docs/"
    "resource-hierarchy",
)
DISPLAY_NAME: Final = rule(
    "vertex-display-name",
    "BS265",
    (VERTEX, GENAI),
    "displayName: any Unicode text, 1 to 128 characters",
    "aiplatform v1 BatchPredictionJob.display_name (required); google-cloud-aiplatform"
    " utils.validate_display_name (BatchPredictionJob.create)",
)

RETIRED: Final = rule(
    "mlengine-retired",
    "BS295",
    (MLENGINE,),
    "Warning: Cloud ML Engine (the legacy AI Platform Prediction) was shut down on 2025-01-31: such"
    " specs still compile and render, but plan and apply do not submit them",
    "https://cloud.google.com/ai-platform/prediction/docs/deprecations",
)


def retired(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """A warning, not an error: the spec still compiles (for the record, for
    `render` and for porting), but its service is gone and `plan`/`apply` will
    not submit it (batchspec.model.retired holds the dates and the way on)."""
    yield from _retired_warnings(target_of(doc))


@functools.lru_cache(maxsize=8)
def _retired_warnings(target: str) -> tuple[Diagnostic, ...]:
    """The warning for a target, made once (it depends on nothing else, and
    every spec of a retired service gets it)."""
    gone = retirement(target) if target in RETIRED.services else None
    if gone is None:
        return ()
    return (
        RETIRED.warning(
            f"{gone.service} was shut down on {gone.shutdown.isoformat()}:"
            " plan and apply will not submit this spec (unless --allow-retired)",
            ("spec", "target"),
            hint=f"{gone.way_forward}; see {gone.source}",
        ),
    )


def region(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Region allow-lists per target (ML Engine: its documented four; Vertex: the SDK's)."""
    target, value = doc.spec.target, doc.spec.region
    allowed = targets.REGIONS.get(target)
    if allowed is None or value is None or gemini_api(doc):
        return
    if value not in allowed:
        hint = _closest(value, allowed)
        if target is Target.MLENGINE:
            hint = "ML Engine batch prediction runs in: " + ", ".join(sorted(allowed))
        yield REGIONS[target].error(
            f"{target.value} does not run batch prediction in region {value!r}",
            ("spec", "region"),
            hint=hint,
        )


@functools.lru_cache(maxsize=1024)
def _closest(value: str, allowed: frozenset[str]) -> str | None:
    """A "did you mean" for a region (difflib costs more than the rest of a
    spec's rules, and a tree repeats its few mistakes)."""
    import difflib  # only for a wrong region: not at start-up

    guess = difflib.get_close_matches(value, sorted(allowed), n=1)
    return f"did you mean `{guess[0]}`?" if guess else None


def project(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The project the job is created in."""
    value = doc.spec.project
    if value is None or not applies(PROJECT, doc) or gemini_api(doc):
        return
    problem = names.project_problem(value)
    if problem:
        yield PROJECT.error(
            f"{value!r} is not a Google Cloud project: {problem}",
            ("spec", "project"),
            hint="use the project id (as `gcloud projects list` shows it) or its number",
        )


def service_account(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Vertex runs the model container as this service account."""
    value, where = doc.spec.service_account, ("spec", "serviceAccount")
    if value is None or not applies(SERVICE_ACCOUNT, doc):
        return
    problem = names.email_problem(value)
    if problem:
        yield SERVICE_ACCOUNT.error(
            f"{problem}: serviceAccount is the service account's email",
            where,
            hint="for example batch-jobs@my-project.iam.gserviceaccount.com",
        )
    elif not value.endswith(names.SERVICE_ACCOUNT_DOMAIN):
        yield SERVICE_ACCOUNT.warning(
            f"{value!r} is not a service account address (those end in"
            f" {names.SERVICE_ACCOUNT_DOMAIN})",
            where,
        )


def kms_key(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """A Cloud KMS key in the job's region."""
    value, where = doc.spec.encryption_key_name, ("spec", "encryptionKeyName")
    if value is None or not applies(KMS_KEY, doc):
        return
    found = _KMS.match(value)
    if found is None:
        yield KMS_KEY.error(
            f"{value!r} is not a Cloud KMS key name",
            where,
            hint="write projects/P/locations/REGION/keyRings/RING/cryptoKeys/KEY",
        )
        return
    for part in ("ring", "key"):
        if not _KMS_ID.match(found[part]):
            yield KMS_KEY.error(
                f"key {'ring ' if part == 'ring' else ''}name {found[part]!r}: 1 to 63 letters,"
                " digits, `_` or `-`",
                where,
            )
    region_ = doc.spec.region
    if region_ is not None and found["location"] != region_:
        yield KMS_KEY.error(
            f"the key is in {found['location']}, the job runs in {region_}: the key must be"
            " in the job's region",
            where,
            hint=f"use a key ring in {region_}",
        )


def display_name(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Vertex AI's display name (the job name when none is given)."""
    value = doc.metadata.display_name
    if value is None or not on_vertex_service(doc):
        return
    where = ("metadata", "displayName")
    if not value.strip():
        yield DISPLAY_NAME.error("displayName is empty", where, hint="remove it to use `name`")
    elif len(value) > DISPLAY_NAME_MAX:
        yield DISPLAY_NAME.error(
            f"displayName is {len(value)} characters; the limit is {DISPLAY_NAME_MAX}", where
        )


__all__ = ["DISPLAY_NAME_MAX", "display_name", "kms_key", "project", "region", "service_account"]
