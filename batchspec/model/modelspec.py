"""The v1 model document (`kind: Model`): a Vertex AI Model as code.

A Model document describes one model the way `gcloud ai models upload` does
(display name, artifact URI, serving container, labels, encryption, the
model a new version goes under) and how batchspec runs its container on this
machine (`local`). Jobs name it with `model: {ref: NAME}`: on Vertex AI that
is the uploaded version, on the local engine its container.

Every revision of the document is one model version. The first goes in as
model `modelId` (the document's name in lowercase unless given), later ones
as new versions of it, each carrying a version alias made from its
fingerprint, so `projects/P/locations/L/models/ID@ALIAS` names exactly one
revision, and a job's request can name it before the upload has happened.
Shapes and limits are those of the aiplatform v1 `UploadModelRequest`,
`Model` and `ModelContainerSpec` (the discovery document's descriptions).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, StrictStr

from batchspec.model.base import Seconds, SpecModel, StrMap
from batchspec.model.behaviour import ModelContainerBehaviour, ModelDocumentBehaviour
from batchspec.model.limits import (
    API_VERSION,
    DAY,
    DEFAULT_PORT,
    JOB_NAME_MAX,
    JOB_NAME_PATTERN,
    MODEL_ID_MAX,
    MODEL_KIND,
)
from batchspec.model.runners import Memory

DISPLAY_NAME_MAX = 128  # Model.displayName

Port = Annotated[StrictInt, Field(ge=1, le=65535)]


class ModelMetadata(SpecModel):
    """Identity of the model document; jobs refer to it by `name`."""

    name: StrictStr = Field(
        description="Model name in the specs: letters, digits and underscores, starting with"
        " a letter, at most 128 characters, unique among Model documents.",
        json_schema_extra={"pattern": JOB_NAME_PATTERN, "maxLength": JOB_NAME_MAX},
    )
    labels: StrMap = Field(
        default_factory=dict,
        description="Labels on the uploaded model (Vertex rules: lowercase, at most 63 chars).",
    )
    description: StrictStr | None = Field(default=None, description="Model.description.")
    secret_keys: list[StrictStr] = Field(
        default_factory=list,
        description="Keys whose values are redacted in plans, `render` and state.",
    )


class ModelContainer(ModelContainerBehaviour, SpecModel):
    """The serving container (`ModelContainerSpec`): what Vertex AI runs, and
    what batchspec runs locally under the same contract."""

    image_uri: StrictStr = Field(
        description="Artifact Registry or Container Registry image, e.g."
        " `us-docker.pkg.dev/P/repo/server:1.2`."
    )
    command: list[StrictStr] | None = Field(
        default=None, description="Overrides the image's ENTRYPOINT (exec form)."
    )
    args: list[StrictStr] | None = Field(
        default=None, description="Overrides the image's CMD (exec form)."
    )
    env: StrMap = Field(
        default_factory=dict,
        description="Variables set in the container, in order (at most 200); stored in the"
        " Model resource, so never secrets.",
    )
    ports: list[Port] | None = Field(
        default=None,
        min_length=1,
        description="Container ports; Vertex AI sends requests and health checks to the first"
        " (default 8080).",
    )
    predict_route: StrictStr | None = Field(
        default=None, description="AIP_PREDICT_ROUTE; the service's default path when omitted."
    )
    health_route: StrictStr | None = Field(
        default=None, description="AIP_HEALTH_ROUTE; the service's default path when omitted."
    )


class ParentModel(SpecModel):
    """The model a new version goes under: another Model document or a resource."""

    ref: StrictStr | None = Field(default=None, description="A Model document by name.")
    resource: StrictStr | None = Field(
        default=None, description="`projects/P/locations/L/models/ID` (no version)."
    )


class ModelLocal(SpecModel):
    """How the container runs on this machine (`batchspec run`, the local engine)."""

    engine: Literal["auto", "docker", "podman", "host"] = Field(
        default="auto",
        description="`auto`: docker or podman when its daemon answers, else `command` as a"
        " host process; `host`: always the host process.",
    )
    command: list[StrictStr] | None = Field(
        default=None,
        min_length=1,
        description="The same server as a host process (run from the spec file's folder),"
        " for machines without a container engine.",
    )
    env: StrMap = Field(default_factory=dict, description="Extra variables for local runs only.")
    memory: Memory | None = None
    storage_uri: StrictStr | None = Field(
        default=None,
        description="AIP_STORAGE_URI for local runs (default: artifactUri).",
    )
    startup_timeout_seconds: Annotated[Seconds, Field(le=2 * 3600)] = 120.0
    request_timeout_seconds: Annotated[Seconds, Field(le=DAY)] = 60.0


class ModelSpec(SpecModel):
    """Everything `models.upload` needs, and the local run's settings."""

    project: StrictStr | None = Field(
        default=None, description="Google Cloud project (or $BATCHSPEC_PROJECT)."
    )
    region: StrictStr | None = Field(default=None, description="Region (or $BATCHSPEC_REGION).")
    display_name: StrictStr | None = Field(
        default=None,
        description="Model.displayName (any text, at most 128 characters); the name when omitted.",
    )
    model_id: StrictStr | None = Field(
        default=None,
        description="The model's id: up to 63 of lowercase letters, digits, `_` and `-`, not"
        " starting with a digit or `-`; the name in lowercase when omitted.",
    )
    parent_model: ParentModel | None = Field(
        default=None, description="Upload versions under this model instead of `modelId`."
    )
    artifact_uri: StrictStr | None = Field(
        default=None, description="Cloud Storage folder of the model's files (AIP_STORAGE_URI)."
    )
    container: ModelContainer
    version_aliases: list[StrictStr] = Field(
        default_factory=list,
        description="Aliases for each uploaded version (e.g. `default`, `golden`); batchspec"
        " adds one of its own per revision.",
    )
    version_description: StrictStr | None = None
    encryption_key_name: StrictStr | None = Field(
        default=None, description="Cloud KMS key for the model (encryptionSpec.kmsKeyName)."
    )
    service_account: StrictStr | None = Field(
        default=None, description="The service account the upload runs as."
    )
    local: ModelLocal = Field(default_factory=ModelLocal)


class ModelDocument(ModelDocumentBehaviour, SpecModel):
    """One YAML document of kind Model."""

    api_version: Literal["batchspec.dev/v1"] = Field(description="Spec language version.")
    kind: Literal["Model"]
    metadata: ModelMetadata
    spec: ModelSpec


__all__ = [
    "API_VERSION",
    "DEFAULT_PORT",
    "DISPLAY_NAME_MAX",
    "MODEL_ID_MAX",
    "MODEL_KIND",
    "ModelContainer",
    "ModelDocument",
    "ModelLocal",
    "ModelMetadata",
    "ModelSpec",
    "ParentModel",
]
