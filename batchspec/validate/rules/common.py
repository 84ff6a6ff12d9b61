"""batchspec's own rules, for every target: the spec language's shape, job
identity, the local model runners, policies, and values JSON must carry.

These guard batchspec itself (one way to say each thing, a name that can be
an identity everywhere), not a Google service; where a rule borrows a
service's rule (job names follow Cloud ML Engine's, because its job ids are
made from them), the source says so.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

from batchspec.diagnostics import Diagnostic, DocPath
from batchspec.model.enums import DataFormat, Target
from batchspec.model.limits import (
    DURATION_PATTERN,
    JOB_NAME_MAX,
    JOB_NAME_PATTERN,
    LABEL_FINGERPRINT,
    LABEL_JOB,
    LABEL_MANAGED_BY,
    LABEL_MODEL,
)
from batchspec.patterns import lazy
from batchspec.validate import targets
from batchspec.validate.rules.core import BATCHSPEC, gemini_api, rule

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec, ModelRef

_NAME: Final = lazy(JOB_NAME_PATTERN)
_DURATION: Final = lazy(DURATION_PATTERN)
_CALLABLE: Final = lazy(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_SHA256: Final = lazy(r"^[0-9a-f]{64}$")
RESERVED_LABELS: Final = (LABEL_MANAGED_BY, LABEL_JOB, LABEL_FINGERPRINT, LABEL_MODEL)
ALL: Final = (BATCHSPEC,)
_BIGQUERY: Final = DataFormat.BIGQUERY  # read once: a member lookup on an enum class is slow

JOB_NAME: Final = rule(
    "job-name",
    "BS201",
    ALL,
    "Job names: letters, digits, underscores, a letter first (they become ML Engine job ids"
    " and batchspec's identity label on every target)",
    "https://cloud.google.com/ai-platform/prediction/docs/managing-models-jobs (naming resources)",
)
JOB_NAME_LENGTH: Final = rule(
    "job-name-length",
    "BS202",
    ALL,
    "Job names are at most 128 characters",
    "https://cloud.google.com/ai-platform/prediction/docs/managing-models-jobs",
)
INPUT_ONE: Final = rule(
    "input-one-location",
    "BS230",
    ALL,
    "Exactly one input location (paths, bigquery, or for the Gemini Developer API requests"
    " or fileName); format BIGQUERY exactly when the source is BigQuery",
    "batchspec spec language (aiplatform v1 InputConfig.source is a oneof)",
)
OUTPUT_ONE: Final = rule(
    "output-one-location",
    "BS240",
    ALL,
    "Exactly one output location (path or bigquery; none for the Gemini Developer API);"
    " format BIGQUERY exactly when the destination is BigQuery",
    "https://cloud.google.com/ai-platform/prediction/docs/batch-predict (one output path);"
    " aiplatform v1 OutputConfig.destination is a oneof",
)
MODEL_ONE: Final = rule(
    "model-one-way",
    "BS250",
    ALL,
    "Name the model exactly one way",
    "batchspec spec language (aiplatform v1 `model`; ml v1 modelName, versionName, uri:"
    " one of them)",
)
MODEL_WAY: Final = rule(
    "model-way-for-target",
    "BS251",
    ALL,
    "The model key the target can use: ML Engine name/uri, Vertex and google-genai"
    " resource/publisher, local engines local",
    "ml v1 PredictionInput; aiplatform v1 BatchPredictionJob.model",
)
VERSION_NEEDS_NAME: Final = rule(
    "version-needs-name",
    "BS252",
    ALL,
    "`version` only with `name` (ML Engine versionName is a version of a named model)",
    "ml v1 PredictionInput.versionName; gcloud `--version` only with `--model`",
)
RUNNER: Final = rule(
    "local-runner-reference",
    "BS254",
    ALL,
    "Local runners: `callable` is `module:name`; `sha256` is 64 lowercase hex digits",
    "batchspec local engine",
)
PICKLE: Final = rule(
    "pickle-pinned",
    "BS280",
    ALL,
    "A scikit-learn (pickled) model pins its sha256: unpickling runs code",
    "https://docs.python.org/3/library/pickle.html (warning); batchspec local engine",
)
RESERVED: Final = rule(
    "reserved-labels",
    "BS260",
    ALL,
    "Label keys managed-by, batchspec-job and batchspec-fp are batchspec's",
    "batchspec identity (exactly-once submission)",
)
DEADLINE: Final = rule(
    "policy-deadline",
    "BS290",
    ALL,
    "Deadlines are durations such as 90m, 6h or 1h30m",
    "batchspec policy",
)
JSON_VALUES: Final = rule(
    "json-values",
    "BS303",
    ALL,
    "Free-form values (modelParameters, inline requests, explanationSpec, initArgs,"
    " runtimeEnv) are plain JSON: finite numbers, string keys, no dates",
    "RFC 8259 (JSON has no NaN, infinity or dates); google.protobuf.Value",
)


def job_name(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Letters, digits, underscores; starts with a letter; <= 128 chars."""
    name, path = doc.metadata.name, ("metadata", "name")
    if len(name) > JOB_NAME_MAX:
        yield JOB_NAME_LENGTH.error(f"job name is {len(name)} characters; the limit is 128", path)
    if not _NAME.match(name):
        fixed = re.sub(r"\W", "_", name)
        if not fixed[:1].isalpha():
            fixed = "job_" + fixed
        yield JOB_NAME.error(
            f"job name {name!r} may hold only letters, digits and underscores, and must"
            " start with a letter",
            path,
            hint=f"for example `{fixed[:JOB_NAME_MAX]}`",
        )


def input_location(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Exactly one of paths / bigquery / requests / fileName, agreeing with the format."""
    inp, base = doc.spec.input, ("spec", "input")
    bigquery = inp.bigquery
    # most specs: files or a table, and nothing else (no table of locations to build)
    plain = inp.requests is None and inp.file_name is None and not gemini_api(doc)
    if not (plain and (inp.paths is None) != (bigquery is None)):
        given = [k for k, v in _input_locations(doc).items() if v is not None]
        if len(given) != 1:
            hint = "`paths` for files, `bigquery: bq://project.dataset.table` for a table"
            if gemini_api(doc):
                hint = "`requests` for inline requests, `fileName: files/ID` for an uploaded file"
            yield INPUT_ONE.error(
                "give exactly one input location: "
                + " or ".join(f"`{k}`" for k in _input_locations(doc)),
                base,
                hint=hint,
            )
            return
    fmt = inp.format
    if bigquery is not None and fmt is not _BIGQUERY:
        yield INPUT_ONE.error("a BigQuery source needs format: BIGQUERY", (*base, "format"))
    elif bigquery is None and fmt is _BIGQUERY:
        yield INPUT_ONE.error("format BIGQUERY reads a table: give `bigquery`", (*base, "format"))


def _input_locations(doc: BatchPredictionJobSpec) -> dict[str, object]:
    inp = doc.spec.input
    if gemini_api(doc):
        return {"requests": inp.requests, "fileName": inp.file_name}
    found: dict[str, object] = {"paths": inp.paths, "bigquery": inp.bigquery}
    for key, value in (("requests", inp.requests), ("fileName", inp.file_name)):
        if value is not None:
            found[key] = value
    return found


def output_location(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Exactly one output location (none for the Gemini Developer API), matching the format."""
    out, base = doc.spec.output, ("spec", "output")
    if gemini_api(doc):
        for key, value in (("path", out.path), ("bigquery", out.bigquery)):
            if value is not None:
                yield OUTPUT_ONE.error(
                    f"the Gemini Developer API returns results in the batch job; `{key}`"
                    " has no place",
                    (*base, key),
                    hint="remove it: `batchspec results` reads the job's responses",
                )
        return
    bigquery = out.bigquery
    if (out.path is None) == (bigquery is None):
        yield OUTPUT_ONE.error(
            "give exactly one output location: `path` or `bigquery`",
            base,
            hint="a batch prediction job writes to one output location (Cloud ML Engine's"
            " documentation: you can only specify one output path)",
        )
        return
    fmt = out.format
    if bigquery is not None and fmt is not _BIGQUERY:
        yield OUTPUT_ONE.error("a BigQuery destination needs format: BIGQUERY", (*base, "format"))
    elif bigquery is None and fmt is _BIGQUERY:
        yield OUTPUT_ONE.error("format BIGQUERY writes a table: give `bigquery`", (*base, "format"))


def model_choice(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Exactly one way to name the model; one the target can use; version needs name."""
    model, target, base = doc.spec.model, doc.spec.target, ("spec", "model")
    if usual_model(model, target):
        return
    ways = model.ways()
    allowed = targets.MODEL_WAYS[target]
    accepts = _accepts(target)
    if len(ways) != 1:
        found = ", ".join(f"`{w}`" for w in ways) or "none"
        yield MODEL_ONE.error(f"name the model exactly one way (found {found})", base, accepts)
    for way in ways:
        if way not in allowed:
            yield MODEL_WAY.error(
                f"{target.value} cannot use a model given as `{way}`", (*base, way), accepts
            )
    if model.version is not None and model.name is None:
        yield VERSION_NEEDS_NAME.error(
            "`version` needs `name`: a version belongs to a named model",
            (*base, "version"),
            hint="add `name`, or drop `version` to use a model URI",
        )


Values = Callable[[Any], tuple[Any, ...]]
# Per target: the model keys it takes and the others, each read in one C call.
_WAY_PLANS: Final[dict[Target, tuple[Values, int, Values, int]]] = {}


def usual_model(model: ModelRef, target: Target) -> bool:
    """Whether the model is named one way, one `target` takes, and has no
    version without a name: what `model_choice` has nothing to say of (most
    specs), read in two C calls instead of `ways()` asking key by key."""
    plan = _WAY_PLANS.get(target)
    if plan is None:
        theirs = sorted(targets.MODEL_WAYS[target])
        others = sorted(set().union(*targets.MODEL_WAYS.values()).difference(theirs))
        plan = _WAY_PLANS[target] = (_values(theirs), len(theirs) - 1, _values(others), len(others))
    taken, unused, rest, none = plan
    return (
        taken(model).count(None) == unused
        and rest(model).count(None) == none
        and (model.version is None or model.name is not None)
    )


def _values(keys: list[str]) -> Values:
    """The values of `keys`, as a tuple (`attrgetter` of one key gives the value)."""
    if len(keys) != 1:
        return attrgetter(*keys) if keys else lambda _: ()
    get = attrgetter(keys[0])
    return lambda obj: (get(obj),)


@functools.cache
def _accepts(target: Target) -> str:
    allowed = targets.MODEL_WAYS[target]
    return f"{target.value} accepts: " + ", ".join(f"`{w}`" for w in sorted(allowed))


def local_runner(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The local engine's model references: importable callables, pinned pickles."""
    local, base = doc.spec.model.local, ("spec", "model", "local")
    if local is None:
        return
    if local.runner == "python" and not _CALLABLE.match(local.callable):
        yield RUNNER.error(
            f"callable must be `module:name`: {local.callable!r}",
            (*base, "callable"),
            hint="for example batchspec.demo.sentiment:predict",
        )
    sha = local.sha256 if local.runner in ("sklearn", "onnx") else None
    if sha is not None and not _SHA256.match(sha):
        yield RUNNER.error(
            "sha256 must be 64 lowercase hex digits",
            (*base, "sha256"),
            hint="compute it with `sha256sum FILE`",
        )
    if local.runner == "sklearn" and local.sha256 is None:
        yield PICKLE.error(
            "a scikit-learn model is unpickled, which runs code: pin its sha256",
            base,
            hint=f"add `sha256:` with the output of `sha256sum {local.path}`",
        )


def reserved_labels(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """batchspec's own label keys cannot be set by hand."""
    for key in doc.metadata.labels:
        if key in RESERVED_LABELS:
            yield RESERVED.error(f"label `{key}` is set by batchspec", ("metadata", "labels", key))


def policy(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Deadlines must parse."""
    deadline = doc.spec.policy.deadline
    if deadline is not None and not _is_duration(deadline):
        yield DEADLINE.error(
            f"deadline {deadline!r} is not a duration",
            ("spec", "policy", "deadline"),
            hint="write a duration such as 90m, 6h or 1h30m (units s, m, h, d)",
        )


@functools.lru_cache(maxsize=1024)
def _is_duration(text: str) -> bool:
    """Whether `text` is a duration (remembered: a tree writes few deadlines)."""
    return _DURATION.match(text) is not None


def json_values(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """BS303: free-form values must be plain JSON, or fingerprints are not stable."""
    spec = doc.spec
    # (most specs have neither: None has no problem, and asking costs a generator)
    if spec.model_parameters is not None:
        yield from _json_problems(spec.model_parameters, ("spec", "modelParameters"))
    if spec.input.requests is not None:
        yield from _json_problems(spec.input.requests, ("spec", "input", "requests"))
    if spec.explanation_spec is not None:
        yield from _json_problems(
            spec.explanation_spec.model_dump(exclude_none=True), ("spec", "explanationSpec")
        )
    local = spec.model.local
    if local is not None and local.runner == "python":
        yield from _json_problems(local.init_args, ("spec", "model", "local", "initArgs"))
    if spec.ray is not None:
        yield from _json_problems(spec.ray.runtime_env, ("spec", "ray", "runtimeEnv"))


_DATES, _SCALARS = (dt.date, dt.datetime, dt.time), (str, int, float, bool)  # built once


def _json_problems(value: Any, path: DocPath) -> Iterator[Diagnostic]:
    if isinstance(value, float) and not math.isfinite(value):
        yield JSON_VALUES.error(
            f"{value!r} cannot be written as JSON", path, hint="use a finite number or a string"
        )
    elif isinstance(value, _DATES):
        yield JSON_VALUES.error(
            f"YAML read {value.isoformat()} as a date; request bodies hold strings",
            path,
            hint=f"quote it: '{value.isoformat()}'",
        )
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield JSON_VALUES.error(f"key {key!r} is not a string", path, hint="quote the key")
            yield from _json_problems(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _json_problems(item, (*path, i))
    elif value is not None and not isinstance(value, _SCALARS):
        yield JSON_VALUES.error(f"a {type(value).__name__} value cannot be written as JSON", path)


__all__ = [
    "RESERVED_LABELS",
    "input_location",
    "job_name",
    "json_values",
    "local_runner",
    "model_choice",
    "output_location",
    "policy",
    "reserved_labels",
]
