"""The local engine's model runners: how a job names a model to run on this
machine (a Python callable, scikit-learn, ONNX, an HTTP model server, a
command under the file contract, or a serving container image)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StrictStr

from batchspec.model.base import DAY, MEMORY_PATTERN, Seconds, SpecModel, StrMap

_Model = SpecModel

HANG_TIMEOUT_SECONDS = 300.0
"""A command that uses no CPU and writes nothing for this long is stopped."""

Memory = Annotated[
    StrictStr,
    Field(
        description="Memory limit, e.g. `2Gi` or `512Mi`: the container's limit, or the"
        " resident memory a host process may use; the machine type's memory when omitted.",
        json_schema_extra={"pattern": MEMORY_PATTERN},
    ),
]


class PythonRunner(_Model):
    """A Python callable ``module:function`` or a class with ``predict``."""

    runner: Literal["python"]
    callable: StrictStr = Field(
        description="`package.module:name`; a function of a list of instances, or a class"
        " whose instances have `predict(instances)`.",
        json_schema_extra={"pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
    )
    init_args: dict[StrictStr, Any] = Field(
        default_factory=dict, description="Keyword arguments for the class constructor."
    )
    python_path: list[StrictStr] = Field(
        default_factory=list,
        description="Folders (relative to the spec file) put on sys.path before importing.",
    )


class SklearnRunner(_Model):
    """A scikit-learn estimator saved with joblib. Unpickling runs code: pin it."""

    runner: Literal["sklearn"]
    path: StrictStr = Field(description="joblib file, relative to the spec file or a URL.")
    sha256: StrictStr | None = Field(
        default=None,
        description="Required: hex sha256 of the file; loading refuses any other file.",
        json_schema_extra={"pattern": "^[0-9a-f]{64}$"},
    )
    method: Literal["predict", "predict_proba", "decision_function", "transform"] = "predict"
    features: list[StrictStr] | None = Field(
        default=None, description="Field order when instances are objects."
    )


class OnnxRunner(_Model):
    """An ONNX model run with ONNX Runtime on the CPU."""

    runner: Literal["onnx"]
    path: StrictStr
    sha256: StrictStr | None = Field(default=None, json_schema_extra={"pattern": "^[0-9a-f]{64}$"})
    input_name: StrictStr | None = None
    output_names: list[StrictStr] | None = None
    features: list[StrictStr] | None = None


class HttpRunner(_Model):
    """A model server that follows Vertex AI's custom-container HTTP contract.

    batchspec starts ``command`` with AIP_HTTP_PORT, AIP_HEALTH_ROUTE,
    AIP_PREDICT_ROUTE, AIP_STORAGE_URI, AIP_MODEL_NAME and AIP_MODE set, exactly
    as Vertex does, so contract mistakes show up before a cloud run.
    """

    runner: Literal["http"]
    command: list[StrictStr] = Field(min_length=1)
    env: StrMap = Field(default_factory=dict)
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = Field(
        default=None, description="AIP_HTTP_PORT; a free port when omitted."
    )
    health_route: StrictStr = "/health"
    predict_route: StrictStr = "/predict"
    storage_uri: StrictStr | None = Field(default=None, description="AIP_STORAGE_URI.")
    # Vertex AI limits a container's deployment to 2 hours
    # (ModelContainerSpec.deploymentTimeout in the aiplatform.v1 discovery document).
    startup_timeout_seconds: Annotated[Seconds, Field(le=2 * 3600)] = 60.0
    request_timeout_seconds: Annotated[Seconds, Field(le=DAY)] = 60.0
    memory: Memory | None = None


class CommandRunner(_Model):
    """A command following batchspec's local file contract for custom containers.

    The command reads the files listed in AIP_BATCH_INPUT_URIS (comma separated)
    and writes JSON lines into AIP_BATCH_OUTPUT_DIR. These variables are
    batchspec's own local convention: Vertex AI does not set them.
    """

    runner: Literal["command"]
    command: list[StrictStr] = Field(min_length=1)
    env: StrMap = Field(default_factory=dict)
    timeout_seconds: Seconds = 3600.0
    hang_timeout_seconds: Seconds | None = Field(
        default=None,
        description="Stop a command that used no CPU and wrote nothing for this long"
        f" (default {HANG_TIMEOUT_SECONDS:.0f}).",
    )
    memory: Memory | None = None


class ContainerRunner(_Model):
    """A serving container image run under Vertex AI's HTTP contract.

    With a container engine (docker or podman with a reachable daemon) the
    image runs with the AIP_* variables, a memory limit and its port
    published on 127.0.0.1. Without one, `hostCommand` runs the same server
    as a host process under the same contract. A `model: {ref: NAME}` for the
    local engine compiles into this runner from the Model document.
    """

    runner: Literal["container"]
    image: StrictStr = Field(description="The image URI (Vertex `containerSpec.imageUri`).")
    command: list[StrictStr] | None = Field(default=None, description="Overrides ENTRYPOINT.")
    args: list[StrictStr] | None = Field(default=None, description="Overrides CMD.")
    env: StrMap = Field(default_factory=dict)
    port: Annotated[StrictInt, Field(ge=1, le=65535)] = Field(
        default=8080, description="The container's port (AIP_HTTP_PORT inside the container)."
    )
    health_route: StrictStr | None = Field(default=None, description="AIP_HEALTH_ROUTE.")
    predict_route: StrictStr | None = Field(default=None, description="AIP_PREDICT_ROUTE.")
    storage_uri: StrictStr | None = Field(default=None, description="AIP_STORAGE_URI.")
    memory: Memory | None = None
    host_command: list[StrictStr] | None = Field(
        default=None,
        min_length=1,
        description="The server as a host process, for machines with no container engine.",
    )
    host_dir: StrictStr | None = Field(
        default=None,
        description="Where `hostCommand` runs, relative to the spec file's folder.",
    )
    engine: Literal["auto", "docker", "podman", "host"] = Field(
        default="auto",
        description="`auto`: docker or podman when its daemon answers, else `hostCommand`.",
    )
    startup_timeout_seconds: Annotated[Seconds, Field(le=2 * 3600)] = 120.0
    request_timeout_seconds: Annotated[Seconds, Field(le=DAY)] = 60.0


LocalModel = Annotated[
    PythonRunner | SklearnRunner | OnnxRunner | HttpRunner | CommandRunner | ContainerRunner,
    Field(discriminator="runner"),
]
