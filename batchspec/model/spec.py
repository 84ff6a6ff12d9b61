"""The v1 job spec: the pydantic models the JSON Schema is generated from.

Why the shape is what it is:

* The models check *structure* only (types, unknown keys, enums). Every rule
  a service documents (job names, regions, formats per target, path
  wildcards, one output, one model) lives in `batchspec.validate.rules`, so
  each gets its own stable diagnostic code and a hint, instead of a generic
  "does not match pattern". The same constraints are still published in the
  JSON Schema (``json_schema_extra``) so editors flag them as you type.
* Scalars are strict: YAML turns ``2024-01-01`` into a date and ``1.15`` into
  a float, and a silently coerced runtime version is a real outage.
* Keys are camelCase, like the Google APIs the specs compile to.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from batchspec.model.enums import DataFormat, Target

API_VERSION = "batchspec.dev/v1"
KIND = "BatchPredictionJob"

JOB_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
JOB_NAME_MAX = 128
DURATION_PATTERN = r"^([0-9]+[smhd])+$"
_DURATION_PART = re.compile(r"([0-9]+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Every number has an upper bound: an unbounded one passed validation and then
# overflowed later (`deadline: 99999999999999999999d` raised OverflowError in
# every reconcile pass). Where a service fixes the range, the bound is its.
INT32_MAX = 2**31 - 1  # Vertex AI int32 fields (aiplatform.v1 discovery document)
INT64_MAX = 2**63 - 1  # ML Engine int64 fields (ml.v1 discovery document); SQLite INTEGER
DAY = 86_400
MAX_DEADLINE_SECONDS = 30 * DAY  # batchspec's own policy: a month
DURATION_MAX_LENGTH = 32

PositiveInt = Annotated[StrictInt, Field(ge=1, le=INT64_MAX)]
PositiveInt32 = Annotated[StrictInt, Field(ge=1, le=INT32_MAX)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=INT64_MAX)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, strict=True, allow_inf_nan=False)]
Seconds = Annotated[float, Field(gt=0.0, le=MAX_DEADLINE_SECONDS, strict=True, allow_inf_nan=False)]
StrMap = dict[StrictStr, StrictStr]


def duration_seconds(text: str) -> int:
    """Turn a duration such as ``1h30m`` into seconds (the format is validated)."""
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


def _bounded_duration(text: str) -> str:
    """The format is a rule (BS290, with a hint); the size is structure."""
    if len(text) > DURATION_MAX_LENGTH or duration_seconds(text) > MAX_DEADLINE_SECONDS:
        raise PydanticCustomError(
            "less_than_equal", "must be at most {le}", {"le": f"{MAX_DEADLINE_SECONDS // DAY}d"}
        )
    return text


Duration = Annotated[StrictStr, AfterValidator(_bounded_duration)]


class _Model(BaseModel):
    """Base for every spec object: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        frozen=True,
    )


class Metadata(_Model):
    """Identity of the job. `name` follows the services' job-name rules."""

    name: StrictStr = Field(
        description=(
            "Job name: letters, digits and underscores, starting with a letter, at most"
            " 128 characters, unique among all jobs ever created in the project."
        ),
        json_schema_extra={"pattern": JOB_NAME_PATTERN, "maxLength": JOB_NAME_MAX},
    )
    labels: StrMap = Field(
        default_factory=dict,
        description="Labels copied onto the job (Vertex rules: lowercase, at most 63 chars).",
    )
    description: StrictStr | None = None
    secret_keys: list[StrictStr] = Field(
        default_factory=list,
        description="Keys whose values are secret wherever they appear in the spec"
        " (besides keys that look secret: token, password, api_key...): redacted in plans,"
        " `render`, state and job files. Not part of the job's fingerprint.",
    )
    display_name: StrictStr | None = Field(
        default=None,
        description="The job's display name on Vertex AI and google-genai (any Unicode text,"
        " at most 128 characters); `name` when omitted. Identity stays with `name`.",
    )


# --- local model runners (the embedded engine) --------------------------------


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


LocalModel = Annotated[
    PythonRunner | SklearnRunner | OnnxRunner | HttpRunner | CommandRunner,
    Field(discriminator="runner"),
]


class ModelRef(_Model):
    """Exactly one way to name the model; which ways a target accepts is a rule."""

    name: StrictStr | None = Field(
        default=None,
        description="ML Engine model name (`my_model` or `projects/P/models/M`).",
    )
    version: StrictStr | None = Field(
        default=None, description="ML Engine version; only together with `name`."
    )
    uri: StrictStr | None = Field(
        default=None, description="Cloud Storage URI of an undeployed SavedModel (ML Engine)."
    )
    resource: StrictStr | None = Field(
        default=None,
        description="Vertex Model resource: `projects/P/locations/L/models/M[@version]`.",
    )
    publisher: StrictStr | None = Field(
        default=None,
        description="Publisher model, e.g. `publishers/google/models/gemini-2.0-flash-001`.",
    )
    local: LocalModel | None = Field(default=None, description="A model for the local engine.")

    def ways(self) -> list[str]:
        """The keys used to name the model (a valid spec has exactly one)."""
        keys = ("name", "uri", "resource", "publisher", "local")
        return [k for k in keys if getattr(self, k) is not None]


class InputSpec(_Model):
    """Where the instances come from and how to read them."""

    format: DataFormat = Field(description="Input data format.")
    paths: list[StrictStr] | None = Field(
        default=None,
        min_length=1,
        description="Files; one `*` allowed, in the last segment, as the whole name or at"
        " the end of a prefix.",
    )
    bigquery: StrictStr | None = Field(
        default=None, description="BigQuery source `bq://project.dataset.table`."
    )
    key_field: StrictStr | None = Field(
        default=None, description="Instance field carried to the output as `key`."
    )
    included_fields: list[StrictStr] | None = None
    excluded_fields: list[StrictStr] | None = None
    instance_type: Literal["object", "array"] | None = None
    requests: list[dict[StrictStr, Any]] | None = Field(
        default=None,
        min_length=1,
        description="Inline requests (google-genai `InlinedRequest`: contents, config,"
        " metadata); Gemini Developer API only.",
    )
    file_name: StrictStr | None = Field(
        default=None,
        description="A Gemini Files API file of JSONL requests, `files/ID`; Gemini Developer"
        " API only.",
    )
    tf_record_decode: Literal["b64", "example"] = Field(
        default="b64",
        description='TFRecord payloads as `{"b64": ...}` (like the services) or decoded'
        " tf.train.Example features.",
    )


class OutputSpec(_Model):
    """Exactly one output location: a path or a BigQuery destination."""

    path: StrictStr | None = Field(default=None, description="Output folder (URL or local).")
    bigquery: StrictStr | None = Field(
        default=None, description="BigQuery destination `bq://project[.dataset]`."
    )
    format: DataFormat = Field(default=DataFormat.JSONL, description="Output data format.")
    overwrite: StrictBool = Field(
        default=False, description="Replace results already in the output path."
    )


class Accelerator(_Model):
    """A GPU or TPU attached to each replica (Vertex `machineSpec`)."""

    type: StrictStr = Field(description="e.g. NVIDIA_TESLA_T4")
    count: PositiveInt32 = 1  # Vertex MachineSpec.acceleratorCount is int32


class Resources(_Model):
    """Compute and batching. Defaults follow the services."""

    max_worker_count: PositiveInt = Field(default=10, description="ML Engine default: 10.")
    batch_size: PositiveInt = Field(default=64, description="Instances per model call.")
    machine_type: StrictStr | None = Field(default=None, description="Vertex machine type.")
    accelerator: Accelerator | None = None
    replica_count: PositiveInt32 | None = Field(
        default=None, description="Vertex starting replica count (batch jobs do not autoscale)."
    )
    max_replica_count: PositiveInt32 | None = None  # Vertex int32, as replica_count


class ExplanationSpec(_Model):
    """Vertex `explanationSpec`: overrides the Model's own explanation settings.

    The two members are passed through as the REST API spells them
    (`ExplanationParameters`, `ExplanationMetadata`); the rules check the
    parts batchspec can know, and the tests parse every compiled body with
    the service's own protobuf types."""

    parameters: dict[StrictStr, Any] = Field(
        description="ExplanationParameters: one attribution method"
        " (sampledShapleyAttribution, integratedGradientsAttribution, xraiAttribution or"
        " examples), topK, outputIndices."
    )
    metadata: dict[StrictStr, Any] | None = Field(
        default=None,
        description="ExplanationMetadata: inputs, outputs, featureAttributionsSchemaUri.",
    )


class GenaiSettings(_Model):
    """Which API google-genai talks to for `target: genai`."""

    api: Literal["vertex", "gemini"] = Field(
        default="vertex",
        description="`vertex`: Vertex AI batch prediction (project, region, Cloud Storage or"
        " BigQuery); `gemini`: the Gemini Developer API with an API key (inline requests or"
        " an uploaded file).",
    )
    api_key_env: StrictStr | None = Field(
        default=None,
        description="Environment variable holding the Gemini API key (never the key itself);"
        " default: google-genai's own GEMINI_API_KEY or GOOGLE_API_KEY.",
        json_schema_extra={"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
    )


class Policy(_Model):
    """How batchspec drives the job: retries, deadline, error budget, removal."""

    max_retries: Annotated[NonNegativeInt, Field(le=100)] = Field(
        default=0, description="Resubmits after FAILED (each one a whole new job; at most 100)."
    )
    retry_backoff_seconds: Annotated[Seconds, Field(le=7 * DAY)] = 60.0
    deadline: Duration | None = Field(
        default=None,
        description="Cancel the job after this long, e.g. `6h` or `1h30m`; at most 30d.",
        json_schema_extra={"pattern": DURATION_PATTERN, "maxLength": DURATION_MAX_LENGTH},
    )
    max_error_fraction: Fraction = Field(
        default=1.0,
        description="Failed instances allowed, as a fraction of all; beyond it the job"
        " FAILS. Within it, a job with failures ends PARTIALLY_SUCCEEDED.",
    )
    max_failed_instances: NonNegativeInt | None = Field(
        default=None, description="Failed instances allowed, as a count."
    )
    on_removal: Literal["keep", "cancel"] = Field(
        default="keep", description="What to do with a running job when its spec is deleted."
    )

    @property
    def deadline_seconds(self) -> int | None:
        """The deadline in seconds, or None when there is none."""
        return duration_seconds(self.deadline) if self.deadline else None


class RaySettings(_Model):
    """Where and how a `target: ray` job runs on a Ray cluster.

    The job is submitted through Ray's Jobs API; its entrypoint runs the
    engine's shard plan over a pool of Ray actors (one model load each). The
    pool has at most `resources.maxWorkerCount` actors and always leaves one
    CPU of the cluster free: an actor pool holding every CPU starves the
    tasks that read data (ray-project/ray#44687).
    """

    address: StrictStr | None = Field(
        default=None,
        description="The cluster's Jobs API address, e.g. `http://head-node:8265`;"
        " else $BATCHSPEC_RAY_ADDRESS, else $RAY_ADDRESS.",
    )
    # Ray keeps resource quantities to 1/10,000 of a unit.
    cpus_per_actor: Annotated[
        float, Field(ge=0.0001, le=1024.0, strict=True, allow_inf_nan=False)
    ] = Field(
        default=1.0,
        description="CPUs each actor (one model load) reserves; fractions share a CPU.",
    )
    runtime_env: dict[StrictStr, Any] | None = Field(
        default=None,
        description="Ray runtime environment for the job (`pip`, `env_vars`, `working_dir`,"
        " ...); batchspec adds its own package and settings.",
    )


class JobSpec(_Model):
    """Everything a batch prediction job needs, whatever the target."""

    target: Target = Field(default=Target.LOCAL, description="Where the job runs.")
    project: StrictStr | None = Field(
        default=None, description="Google Cloud project (or $BATCHSPEC_PROJECT)."
    )
    region: StrictStr | None = None
    model: ModelRef
    input: InputSpec
    output: OutputSpec
    resources: Resources = Field(default_factory=Resources)
    runtime_version: StrictStr | None = Field(
        default=None, description="ML Engine runtime; omit for deployed versions."
    )
    signature_name: StrictStr | None = Field(
        default=None, description="SavedModel signature (service default `serving_default`)."
    )
    service_account: StrictStr | None = None
    encryption_key_name: StrictStr | None = Field(
        default=None, description="Cloud KMS key for the job's resources (Vertex)."
    )
    generate_explanation: StrictBool = False
    explanation_spec: ExplanationSpec | None = Field(
        default=None,
        description="Vertex explanationSpec (only with generateExplanation: true).",
    )
    disable_container_logging: StrictBool = Field(
        default=False,
        description="Vertex: keep the model container's stdout/stderr out of Cloud Logging.",
    )
    model_parameters: dict[StrictStr, Any] | None = None
    policy: Policy = Field(default_factory=Policy)
    ray: RaySettings | None = Field(
        default=None, description="Cluster address and actor sizing for `target: ray`."
    )
    genai: GenaiSettings | None = Field(
        default=None, description="Which API `target: genai` uses (default Vertex AI)."
    )


class BatchPredictionJobSpec(_Model):
    """One YAML document of kind BatchPredictionJob."""

    api_version: Literal["batchspec.dev/v1"] = Field(description="Spec language version.")
    kind: Literal["BatchPredictionJob"]
    metadata: Metadata
    spec: JobSpec

    @property
    def name(self) -> str:
        """The job name."""
        return self.metadata.name
