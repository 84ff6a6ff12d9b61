"""Rules from the services' documentation, each with its own diagnostic code.

A rule is a function of one typed spec that yields diagnostics with document
paths; the validator fills in file, line and column. Rules that need every
spec at once (unique names) live in `batchspec.validate.validator`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator

from batchspec.diagnostics import Diagnostic
from batchspec.model.enums import CLOUD_TARGETS, DataFormat, Severity, Target
from batchspec.model.jobs import LABEL_FINGERPRINT, LABEL_JOB, LABEL_MANAGED_BY
from batchspec.model.retired import retirement
from batchspec.model.spec import (
    DURATION_PATTERN,
    JOB_NAME_MAX,
    JOB_NAME_PATTERN,
    BatchPredictionJobSpec,
    OnnxRunner,
    PythonRunner,
    SklearnRunner,
)
from batchspec.validate import targets

Rule = Callable[[BatchPredictionJobSpec], Iterator[Diagnostic]]

_NAME = re.compile(JOB_NAME_PATTERN)
_DURATION = re.compile(DURATION_PATTERN)
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_BQ_TABLE = re.compile(r"^bq://[a-z][a-z0-9-]{4,28}[a-z0-9]\.\w{1,1024}\.[\w$-]{1,1024}$")
_BQ_DEST = re.compile(r"^bq://[a-z][a-z0-9-]{4,28}[a-z0-9](\.\w{1,1024})?$")
_VERTEX_MODEL = re.compile(r"^projects/[^/]+/locations/[^/]+/models/[^/@]+(@[^/@]+)?$")
_PUBLISHER = re.compile(r"^(publishers/[a-z0-9-]+/models/)?[a-zA-Z0-9][\w.@-]*$")
_MLE_MODEL = re.compile(r"^(projects/[^/]+/models/)?[A-Za-z][A-Za-z0-9_]*$")
_MLE_VERSION = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RESERVED_LABELS = (LABEL_MANAGED_BY, LABEL_JOB, LABEL_FINGERPRINT)


def _err(code: str, msg: str, path: tuple[str | int, ...], hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, msg, path=path, hint=hint)


def _warn(code: str, msg: str, path: tuple[str | int, ...], hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, msg, severity=Severity.WARNING, path=path, hint=hint)


def job_name(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """ML Engine's job names: letters, digits, underscores; a letter first; <= 128."""
    name, path = doc.metadata.name, ("metadata", "name")
    if len(name) > JOB_NAME_MAX:
        yield _err("BS202", f"job name is {len(name)} characters; the limit is 128", path)
    if not _NAME.match(name):
        fixed = re.sub(r"\W", "_", name)
        if not fixed[:1].isalpha():
            fixed = "job_" + fixed
        yield _err(
            "BS201",
            f"job name {name!r} may hold only letters, digits and underscores, and must"
            " start with a letter",
            path,
            hint=f"for example `{fixed[:JOB_NAME_MAX]}`",
        )


def region(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Region allow-lists per target (ML Engine: its documented four; Vertex: the SDK's)."""
    target, value = doc.spec.target, doc.spec.region
    allowed = targets.REGIONS.get(target)
    if allowed is None or value is None:
        return
    if value not in allowed:
        guess = difflib.get_close_matches(value, sorted(allowed), n=1)
        hint = f"did you mean `{guess[0]}`?" if guess else None
        if target is Target.MLENGINE:
            hint = "ML Engine batch prediction runs in: " + ", ".join(sorted(allowed))
        yield _err(
            "BS211",
            f"{target.value} does not run batch prediction in region {value!r}",
            ("spec", "region"),
            hint=hint,
        )


def formats(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Formats per target and direction (CSV output-only and TF_RECORD input-only
    on ML Engine, for instance)."""
    target = doc.spec.target
    for direction, fmt, table in (
        ("input", doc.spec.input.format, targets.INPUT_FORMATS),
        ("output", doc.spec.output.format, targets.OUTPUT_FORMATS),
    ):
        allowed = table[target]
        if fmt in allowed:
            continue
        why = targets.WHY_FORMAT.get((target, direction, fmt))
        yield _err(
            "BS220",
            f"{target.value} cannot {'read' if direction == 'input' else 'write'}"
            f" {fmt.value}" + (f": {why}" if why else ""),
            ("spec", direction, "format"),
            hint="supported: " + ", ".join(sorted(f.value for f in allowed)),
        )


def input_location(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Exactly one of paths / bigquery, agreeing with the format."""
    inp, base = doc.spec.input, ("spec", "input")
    if (inp.paths is None) == (inp.bigquery is None):
        yield _err(
            "BS230",
            "give exactly one input location: `paths` or `bigquery`",
            base,
            hint="`paths` for files, `bigquery: bq://project.dataset.table` for a table",
        )
        return
    if inp.bigquery is not None:
        if inp.format is not DataFormat.BIGQUERY:
            yield _err("BS230", "a BigQuery source needs format: BIGQUERY", (*base, "format"))
        if not _BQ_TABLE.match(inp.bigquery):
            yield _err(
                "BS230",
                f"{inp.bigquery!r} is not a BigQuery table URI",
                (*base, "bigquery"),
                hint="write bq://project.dataset.table",
            )
    elif inp.format is DataFormat.BIGQUERY:
        yield _err("BS230", "format BIGQUERY reads a table: give `bigquery`", (*base, "format"))


def input_paths(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Cloud Storage for cloud targets; Cloud Storage's single-asterisk wildcards."""
    cloud = doc.spec.target in CLOUD_TARGETS
    for i, path in enumerate(doc.spec.input.paths or ()):
        where = ("spec", "input", "paths", i)
        if cloud and not path.startswith("gs://"):
            yield _err(
                "BS231",
                f"{doc.spec.target.value} reads inputs from Cloud Storage only: {path!r}",
                where,
                hint="upload the files and write gs://bucket/path",
            )
        problem = wildcard_problem(path)
        if problem:
            yield _err(
                "BS232",
                problem,
                where,
                hint="use `dir/*` for a whole folder or `dir/prefix*` for files by prefix",
            )


def wildcard_problem(path: str) -> str | None:
    """Why `path` breaks the wildcard rules, or None when it follows them."""
    for ch in "?[]{}":
        if ch in path:
            return f"{ch!r} is not a wildcard batch prediction understands: {path!r}"
    stars = path.count("*")
    if stars == 0:
        return None
    if stars > 1:
        return f"at most one `*` per path: {path!r}"
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if "*" not in last:
        return f"`*` is allowed only in the last path segment: {path!r}"
    if not last.endswith("*"):
        return f"`*` must end the file name (`prefix*`) or be the whole name: {path!r}"
    return None


def instance_config(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Vertex allows only one of included/excluded fields; keys need fields."""
    inp, base = doc.spec.input, ("spec", "input")
    if inp.included_fields and inp.excluded_fields:
        yield _err(
            "BS233",
            "give `includedFields` or `excludedFields`, not both",
            (*base, "excludedFields"),
        )
    fieldless = {DataFormat.TEXT, DataFormat.FILE_LIST}
    tf = {DataFormat.TF_RECORD, DataFormat.TF_RECORD_GZIP}
    if inp.key_field and (
        inp.format in fieldless or (inp.format in tf and inp.tf_record_decode == "b64")
    ):
        yield _err(
            "BS233",
            f"{inp.format.value} instances have no fields, so `keyField` cannot pick one",
            (*base, "keyField"),
            hint="use JSONL, CSV or BIGQUERY, or tfRecordDecode: example",
        )
    if inp.tf_record_decode == "example" and inp.format not in tf:
        yield _warn("BS233", "tfRecordDecode applies to TF_RECORD input only", (*base,))


def output_location(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Exactly one output location, matching the format and the target's storage."""
    out, base = doc.spec.output, ("spec", "output")
    if (out.path is None) == (out.bigquery is None):
        yield _err(
            "BS240",
            "give exactly one output location: `path` or `bigquery`",
            base,
            hint="a batch prediction job writes to one output location (Cloud ML Engine's"
            " documentation: you can only specify one output path)",
        )
        return
    if out.bigquery is not None:
        if out.format is not DataFormat.BIGQUERY:
            yield _err("BS240", "a BigQuery destination needs format: BIGQUERY", (*base, "format"))
        if not _BQ_DEST.match(out.bigquery):
            yield _err(
                "BS240",
                f"{out.bigquery!r} is not a BigQuery destination",
                (*base, "bigquery"),
                hint="write bq://project or bq://project.dataset",
            )
        return
    if out.format is DataFormat.BIGQUERY:
        yield _err("BS240", "format BIGQUERY writes a table: give `bigquery`", (*base, "format"))
    assert out.path is not None
    if doc.spec.target in CLOUD_TARGETS and not out.path.startswith("gs://"):
        yield _err(
            "BS241",
            f"{doc.spec.target.value} writes outputs to Cloud Storage only: {out.path!r}",
            (*base, "path"),
            hint="write gs://bucket/folder",
        )
    if "*" in out.path:
        yield _err("BS241", "an output path cannot hold wildcards", (*base, "path"))


def model_choice(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Exactly one way to name the model; one the target can use; version needs name."""
    model, target, base = doc.spec.model, doc.spec.target, ("spec", "model")
    ways = model.ways()
    allowed = targets.MODEL_WAYS[target]
    if len(ways) != 1:
        found = ", ".join(f"`{w}`" for w in ways) or "none"
        yield _err(
            "BS250",
            f"name the model exactly one way (found {found})",
            base,
            hint=f"{target.value} accepts: " + ", ".join(f"`{w}`" for w in sorted(allowed)),
        )
    for way in ways:
        if way not in allowed:
            yield _err(
                "BS251",
                f"{target.value} cannot use a model given as `{way}`",
                (*base, way),
                hint=f"{target.value} accepts: " + ", ".join(f"`{w}`" for w in sorted(allowed)),
            )
    if model.version is not None and model.name is None:
        yield _err(
            "BS252",
            "`version` needs `name`: a version belongs to a named model",
            (*base, "version"),
            hint="add `name`, or drop `version` to use a model URI",
        )
    yield from _model_references(doc)


def _model_references(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    model, base = doc.spec.model, ("spec", "model")
    checks: list[tuple[str, str | None, re.Pattern[str], str]] = [
        ("name", model.name, _MLE_MODEL, "e.g. `census` or projects/P/models/census"),
        ("version", model.version, _MLE_VERSION, "letters, digits, underscores, e.g. `v2`"),
        ("resource", model.resource, _VERTEX_MODEL, "e.g. projects/P/locations/R/models/ID@2"),
        (
            "publisher",
            model.publisher,
            _PUBLISHER,
            "e.g. publishers/google/models/gemini-2.0-flash",
        ),
    ]
    for key, value, pattern, example in checks:
        if value is not None and not pattern.match(value):
            yield _err(
                "BS254", f"malformed model {key}: {value!r}", (*base, key), f"e.g. {example}"
            )
    if model.uri is not None and not model.uri.startswith("gs://"):
        yield _err(
            "BS254",
            f"model uri must be a Cloud Storage folder: {model.uri!r}",
            (*base, "uri"),
            hint="gs://bucket/path/to/saved_model",
        )
    local = model.local
    if isinstance(local, PythonRunner) and not _CALLABLE.match(local.callable):
        yield _err(
            "BS254",
            f"callable must be `module:name`: {local.callable!r}",
            (*base, "local", "callable"),
            hint="e.g. batchspec.demo.sentiment:predict",
        )
    sha = local.sha256 if isinstance(local, SklearnRunner | OnnxRunner) else None
    if sha is not None and not _SHA256.match(sha):
        yield _err(
            "BS254",
            "sha256 must be 64 lowercase hex digits",
            (*base, "local", "sha256"),
            hint="compute it with `sha256sum FILE`",
        )
    if isinstance(local, SklearnRunner) and local.sha256 is None:
        yield _err(
            "BS280",
            "a scikit-learn model is unpickled, which runs code: pin its sha256",
            (*base, "local"),
            hint=f"add `sha256:` with the output of `sha256sum {local.path}`",
        )


def ignored_settings(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Warn about settings the target's service ignores (ML Engine's
    documentation: omit runtimeVersion for deployed model versions)."""
    spec, target = doc.spec, doc.spec.target
    if spec.runtime_version is not None:
        if target is not Target.MLENGINE:
            yield _warn(
                "BS253",
                f"runtimeVersion is an ML Engine setting; {target.value} ignores it",
                ("spec", "runtimeVersion"),
            )
        elif spec.model.name is not None:
            yield _warn(
                "BS253",
                "runtimeVersion with a deployed model: the service uses the version the"
                " model was deployed with",
                ("spec", "runtimeVersion"),
                hint="omit runtimeVersion unless the model is given by `uri`",
            )
    if spec.signature_name is not None and target is not Target.MLENGINE:
        yield _warn(
            "BS253",
            f"signatureName is an ML Engine setting; {target.value} ignores it",
            ("spec", "signatureName"),
        )


def resources(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Vertex: dedicated resources need a machine type; batchSize only applies with them."""
    res, target, base = doc.spec.resources, doc.spec.target, ("spec", "resources")
    if res.max_replica_count and res.replica_count and res.max_replica_count < res.replica_count:
        yield _err("BS270", "maxReplicaCount is below replicaCount", (*base, "maxReplicaCount"))
    if target is Target.VERTEX and res.machine_type is None:
        for key, value in (
            ("accelerator", res.accelerator),
            ("replicaCount", res.replica_count),
            ("maxReplicaCount", res.max_replica_count),
        ):
            if value is not None:
                yield _err(
                    "BS270",
                    f"{key} needs machineType (Vertex dedicatedResources)",
                    (*base, key),
                    hint="add machineType, e.g. n1-standard-4",
                )
        if "batch_size" in res.model_fields_set:
            yield _warn(
                "BS253",
                "Vertex uses batchSize only with dedicated resources (machineType)",
                (*base, "batchSize"),
            )
    if target in (Target.MLENGINE, Target.GENAI):
        ignored = {"machineType": res.machine_type, "accelerator": res.accelerator}
        for key in (k for k, v in ignored.items() if v is not None):
            yield _warn("BS253", f"{target.value} ignores {key}", (*base, key))


def labels(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Google Cloud label rules for cloud targets; batchspec's own keys are reserved."""
    cloud = doc.spec.target in CLOUD_TARGETS
    items = doc.metadata.labels
    base = ("metadata", "labels")
    if cloud and len(items) > 61:
        yield _err("BS260", f"{len(items)} labels; at most 61 leave room for batchspec's", base)
    for key, value in items.items():
        if key in _RESERVED_LABELS:
            yield _err("BS260", f"label `{key}` is set by batchspec", (*base, key))
        elif cloud and not _LABEL_KEY.match(key):
            yield _err(
                "BS260",
                f"label key {key!r}: lowercase letters, digits, `_` and `-`, starting"
                " with a letter, at most 63 characters",
                (*base, key),
                hint=f"e.g. `{re.sub(r'[^a-z0-9_-]', '-', key.lower())[:63]}`",
            )
        if cloud and not _LABEL_VALUE.match(value):
            yield _err(
                "BS260",
                f"label value {value!r}: lowercase letters, digits, `_` and `-`, at most"
                " 63 characters",
                (*base, key),
            )


def policy(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Deadlines must parse."""
    deadline = doc.spec.policy.deadline
    if deadline is not None and not _DURATION.match(deadline):
        yield _err(
            "BS290",
            f"deadline {deadline!r} is not a duration",
            ("spec", "policy", "deadline"),
            hint="write e.g. 90m, 6h or 1h30m (units s, m, h, d)",
        )


def retired_target(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """A warning, not an error: the spec still compiles (for the record, for
    `render` and for porting), but its service is gone and `plan`/`apply`
    will not submit it (batchspec.model.retired cites the shutdown notice)."""
    gone = retirement(doc.spec.target.value)
    if gone is not None:
        yield _warn(
            "BS295",
            f"{gone.service} was shut down on {gone.shutdown.isoformat()}:"
            " plan and apply will not submit this spec (unless --allow-retired)",
            ("spec", "target"),
            hint=f"{gone.way_forward}; see {gone.source}",
        )


RULES: tuple[Rule, ...] = (
    job_name,
    region,
    formats,
    input_location,
    input_paths,
    instance_config,
    output_location,
    model_choice,
    ignored_settings,
    resources,
    labels,
    policy,
    retired_target,
)


def check_rules(doc: BatchPredictionJobSpec) -> list[Diagnostic]:
    """Run every single-document rule."""
    return [d for rule in RULES for d in rule(doc)]
