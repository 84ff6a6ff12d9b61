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

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictStr

from batchspec.model.base import (
    Duration,
    Fraction,
    NonNegativeInt,
    PositiveInt,
    PositiveInt32,
    Seconds,
    SpecModel,
    StrMap,
)
from batchspec.model.behaviour import (
    BatchPredictionJobSpecBehaviour,
    JobSpecBehaviour,
    ModelRefBehaviour,
    PolicyBehaviour,
    ScheduleBehaviour,
)
from batchspec.model.enums import DataFormat, Target
from batchspec.model.limits import (
    API_VERSION,
    DAY,
    DURATION_MAX_LENGTH,
    DURATION_PATTERN,
    INT32_MAX,
    INT64_MAX,
    JOB_NAME_MAX,
    JOB_NAME_PATTERN,
    KIND,
    MAX_DEADLINE_SECONDS,
    duration_seconds,
)
from batchspec.model.runners import (
    CommandRunner,
    ContainerRunner,
    HttpRunner,
    LocalModel,
    OnnxRunner,
    PythonRunner,
    SklearnRunner,
)

_Model = SpecModel


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


class ModelRef(ModelRefBehaviour, _Model):
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
    ref: StrictStr | None = Field(
        default=None,
        description="A `kind: Model` document by name: its uploaded version on Vertex AI,"
        " its container on the local engine.",
    )


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


class Policy(PolicyBehaviour, _Model):
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


class Schedule(ScheduleBehaviour, _Model):
    """When a recurring job runs: a cron expression on a time zone's wall clock.

    `concurrency` has Kubernetes CronJob's meaning (and its default): `Allow`
    starts a run while an earlier one is unfinished, `Forbid` skips the tick,
    `Replace` cancels the unfinished run and starts the new one."""

    cron: StrictStr = Field(
        description="Five cron fields (minute hour day-of-month month day-of-week), e.g."
        " `0 2 * * *`, or @hourly, @daily, @weekly, @monthly, @yearly.",
        json_schema_extra={"minLength": 1, "maxLength": 200},
    )
    time_zone: StrictStr = Field(
        default="UTC",
        description="IANA time zone of the expression, e.g. Europe/Berlin. On a DST night a"
        " run at a fixed time runs once: at the end of a skipped hour, or in the first of"
        " a repeated one.",
        json_schema_extra={"maxLength": 64},
    )
    starting_deadline: Duration | None = Field(
        default=None,
        description="A tick not started within this long (e.g. `2h`) is skipped and"
        " recorded as missed.",
        json_schema_extra={"pattern": DURATION_PATTERN, "maxLength": DURATION_MAX_LENGTH},
    )
    concurrency: Literal["Allow", "Forbid", "Replace"] = Field(
        default="Allow",
        description="A tick while a run is unfinished: Allow runs both, Forbid skips the"
        " tick, Replace cancels the unfinished run.",
    )
    catch_up: Annotated[NonNegativeInt, Field(le=100)] = Field(
        default=0,
        description="How many ticks missed while no controller ran are run late (the most"
        " recent ones); 0: only the latest tick, if within startingDeadline.",
    )
    keep: Annotated[PositiveInt, Field(le=1000)] = Field(
        default=3,
        description="Finished runs `status` and the web view show; history keeps every run.",
    )


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


class JobSpec(JobSpecBehaviour, _Model):
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
    schedule: Schedule | None = Field(
        default=None,
        description="Run again and again on a cron schedule; each run is its own job, with"
        " run variables such as `{run.date}` in output.path keeping runs apart.",
    )
    trigger: Literal["inputs"] | None = Field(
        default=None,
        description="`inputs`: run again whenever the set of input files changes (names plus"
        " generation on Cloud Storage, size and modification time locally); with a"
        " schedule, a tick runs only when the inputs changed since the last run.",
    )


class BatchPredictionJobSpec(BatchPredictionJobSpecBehaviour, _Model):
    """One YAML document of kind BatchPredictionJob."""

    api_version: Literal["batchspec.dev/v1"] = Field(description="Spec language version.")
    kind: Literal["BatchPredictionJob"]
    metadata: Metadata
    spec: JobSpec


__all__ = [
    "API_VERSION",
    "DAY",
    "DURATION_MAX_LENGTH",
    "DURATION_PATTERN",
    "INT32_MAX",
    "INT64_MAX",
    "JOB_NAME_MAX",
    "JOB_NAME_PATTERN",
    "KIND",
    "MAX_DEADLINE_SECONDS",
    "Accelerator",
    "BatchPredictionJobSpec",
    "CommandRunner",
    "ContainerRunner",
    "HttpRunner",
    "InputSpec",
    "JobSpec",
    "LocalModel",
    "Metadata",
    "ModelRef",
    "OnnxRunner",
    "OutputSpec",
    "Policy",
    "PythonRunner",
    "RaySettings",
    "Resources",
    "SklearnRunner",
    "duration_seconds",
]
