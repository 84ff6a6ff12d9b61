"""Where data lives: Cloud Storage and BigQuery URIs, by the rules of the
service that reads them.

* Cloud Storage's own naming rules (buckets, objects) hold for every gs://
  URI, whoever reads it.
* Wildcards differ by reader: Vertex AI reads `gcsSource.uris` with Cloud
  Storage's wildcard semantics (`*`, `**`, `?`, `[...]`); Cloud ML Engine and
  batchspec's local engine follow ML Engine's narrower documented rule (one `*`, at the
  end of the last segment).
* BigQuery URIs are parsed into project, dataset and table, and each part is
  checked by its own owner's rule, so a message names the part that is wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, NamedTuple

from batchspec.diagnostics import Diagnostic, DocPath
from batchspec.model.enums import CLOUD_TARGETS
from batchspec.validate.rules import names
from batchspec.validate.rules.core import (
    ENGINES,
    GENAI,
    LOCAL,
    MLENGINE,
    RAY,
    VERTEX,
    applies,
    on_vertex_service,
    rule,
    target_of,
)
from batchspec.validate.rules.recurring import blank_variables

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

EVERY: Final = (VERTEX, GENAI, MLENGINE, LOCAL, RAY)
GS, BQ = "gs://", "bq://"

BUCKET: Final = rule(
    "gcs-bucket-name",
    "BS234",
    EVERY,
    "Bucket names: 3-63 characters (222 with dots, 63 per dot-separated part) of lowercase"
    " letters, digits, `-`, `_`, `.`; a letter or digit first and last; not an IP address;"
    " no `goog` prefix, no `google`",
    "https://cloud.google.com/storage/docs/buckets#naming",
)
OBJECT: Final = rule(
    "gcs-object-name",
    "BS234",
    EVERY,
    "Object names: 1-1024 bytes of UTF-8, no carriage return or line feed, not `.` or `..`,"
    " not under `.well-known/acme-challenge/`; an input file names an object",
    "https://cloud.google.com/storage/docs/objects#naming",
)
LITERAL: Final = rule(
    "gcs-literal-segments",
    "BS234",
    EVERY,
    "Warning: `//`, `.` and `..` stay in object names as written (the namespace is flat)",
    "https://cloud.google.com/storage/docs/objects#naming (object name considerations)",
)
VERTEX_WILDCARDS: Final = rule(
    "vertex-gcs-wildcards",
    "BS232",
    (VERTEX, GENAI),
    "gcsSource.uris take Cloud Storage wildcards (`*`, `**`, `?`, `[...]`) in the object"
    " name; a wildcard in the bucket name is warned about (not documented for batch jobs)",
    "aiplatform v1 GcsSource.uris; https://cloud.google.com/storage/docs/wildcards",
)
MLENGINE_WILDCARDS: Final = rule(
    "mlengine-wildcards",
    "BS232",
    (MLENGINE, *ENGINES),
    "At most one `*`, in the last segment, as the whole name or at the end of a prefix;"
    " no `?`, `[]`, `{}` (ML Engine, and batchspec's local engine which implements it)",
    "https://cloud.google.com/ai-platform/prediction/docs/batch-predict;"
    " gcloud ai-platform jobs submit prediction --input-paths"
    " (https://cloud.google.com/sdk/gcloud/reference/ai-platform/jobs/submit/prediction)",
)
INPUT_SCHEME: Final = rule(
    "cloud-inputs-gcs",
    "BS231",
    (VERTEX, GENAI, MLENGINE),
    "Input files are Cloud Storage URIs (gs://)",
    "aiplatform v1 GcsSource.uris; ml v1 PredictionInput.inputPaths",
)
OUTPUT_SCHEME: Final = rule(
    "cloud-outputs-gcs",
    "BS241",
    (VERTEX, GENAI, MLENGINE),
    "Output folders are Cloud Storage URIs (gs://); a bucket alone is a valid folder (Vertex"
    " appends `/`); no wildcards",
    "aiplatform v1 GcsDestination.outputUriPrefix; ml v1 PredictionInput.outputPath",
)
ENGINE_OUTPUT: Final = rule(
    "engine-output-folder",
    "BS241",
    ENGINES,
    "The local engine and Ray write into the output folder as named: no wildcards",
    "batchspec local engine (engine/output.py)",
)
BQ_SOURCE: Final = rule(
    "bigquery-source-uri",
    "BS230",
    (VERTEX, GENAI, *ENGINES),
    "A BigQuery source is a table: bq://project.dataset.table",
    "aiplatform v1 BigQuerySource.inputUri",
)
BQ_DEST: Final = rule(
    "bigquery-destination-uri",
    "BS240",
    (VERTEX, GENAI, *ENGINES),
    "A BigQuery destination is bq://project, bq://project.dataset or bq://project.dataset.table",
    "aiplatform v1 BigQueryDestination.outputUri",
)
BQ_LENGTH: Final = rule(
    "bigquery-uri-length",
    "BS236",
    (VERTEX, GENAI),
    "BigQuery URIs are at most 2000 characters",
    "aiplatform v1 BigQuerySource.inputUri, BigQueryDestination.outputUri",
)
BQ_PARTS: Final = rule(
    "bigquery-names",
    "BS236",
    (VERTEX, GENAI, *ENGINES),
    "Project ids (6-30 characters, a letter first), dataset ids (letters, digits, `_`, at"
    " most 1024) and table names (Unicode letters, marks, digits, `_`, `-`, spaces; at most"
    " 1024 bytes)",
    "https://cloud.google.com/bigquery/docs/datasets#dataset-naming;"
    " https://cloud.google.com/bigquery/docs/tables#table_naming;"
    " https://cloud.google.com/resource-manager/reference/rest/v1/projects",
)
BQ_MAX: Final = 2000


class GcsUri(NamedTuple):
    """`gs://bucket/object` split at the first slash."""

    bucket: str
    name: str


_new_tuple = tuple.__new__  # a NamedTuple's own `__new__` is a Python call, twice the cost


def split_gcs(uri: str) -> GcsUri:
    """The bucket and object name of a gs:// URI (no checks)."""
    return _new_tuple(GcsUri, _split(uri))


def _split(uri: str) -> tuple[str, str]:
    """`split_gcs` as a plain tuple (making the GcsUri costs a third of it)."""
    bucket, _, name = uri[len(GS) :].partition("/")
    return bucket, name


def well_named(uri: str, folder: bool) -> bool:
    """Whether Cloud Storage's naming rules have nothing to say of a gs://
    URI (most URIs): asked before `gcs_problems`, whose generator costs as
    much to make as this costs to answer."""
    bucket, name = _split(uri)
    return (
        bool(name)
        and names.bucket_problem(bucket) is None
        and names.object_problem(name + "/" if folder and not name.endswith("/") else name) is None
        and names.literal_segments(name) is None
    )


def gcs_problems(
    uri: str, path: DocPath, *, folder: bool, vertex_wildcards: bool = False
) -> Iterator[Diagnostic]:
    """Cloud Storage's naming rules for one gs:// URI (a file, or a folder)."""
    if not vertex_wildcards and well_named(uri, folder):
        return  # a good bucket and object name (most URIs): no branches
    parts = split_gcs(uri)
    wild_bucket = vertex_wildcards and any(c in parts.bucket for c in "*?[")
    if wild_bucket:
        yield VERTEX_WILDCARDS.warning(
            f"a wildcard in the bucket name of {uri!r}: Vertex AI documents wildcards for"
            " object names only",
            path,
            hint="name the bucket; put wildcards after it",
        )
    else:
        problem = names.bucket_problem(parts.bucket)
        if problem:
            yield BUCKET.error(
                f"{problem}: {uri!r}", path, hint="for example gs://my-bucket/folder/"
            )
    if not parts.name and not folder:
        yield OBJECT.error(
            f"{uri!r} names a bucket, not a file",
            path,
            hint="write gs://bucket/path/file or gs://bucket/folder/*",
        )
        return
    # A folder is a prefix (Vertex AI appends `/`), so only a file can be `.` or `..`.
    name = parts.name + "/" if folder and not parts.name.endswith("/") else parts.name
    problem = names.object_problem(name)
    if problem and parts.name:
        yield OBJECT.error(f"{problem}: {uri!r}", path)
    elif parts.name:
        literal = names.literal_segments(parts.name)
        if literal:
            yield LITERAL.warning(
                f"{literal}: {uri!r}", path, hint="write the path the way the objects are named"
            )


def wildcard_problem(path: str) -> str | None:
    """Why `path` breaks ML Engine's wildcard rules, or None when it follows them."""
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


def input_paths(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Cloud Storage for cloud targets, each reader's wildcard rules, Cloud
    Storage naming for every gs:// URI."""
    spec = doc.spec
    reader = (target_of(doc), spec.target in CLOUD_TARGETS, on_vertex_service(doc))
    for i, written in enumerate(spec.input.paths or ()):
        yield from _input_path_problems(written, i, *reader)


@functools.lru_cache(maxsize=4096)
def _input_path_problems(
    written: str, i: int, target: str, cloud: bool, vertex: bool
) -> tuple[Diagnostic, ...]:
    """What `input_paths` says of one path, remembered: a tree reads the
    same few input folders from many specs of a few targets, and what is
    said depends only on these (diagnostics are immutable, so sharing them
    is safe)."""
    return tuple(_input_path(written, ("spec", "input", "paths", i), target, cloud, vertex))


def _input_path(
    written: str, where: DocPath, target: str, cloud: bool, vertex: bool
) -> Iterator[Diagnostic]:
    path = blank_variables(written)  # `{run.date}` is judged as the text a run gets
    if cloud and not path.startswith(GS) and target in INPUT_SCHEME.services:
        yield INPUT_SCHEME.error(
            f"{target} reads inputs from Cloud Storage only: {path!r}",
            where,
            hint="upload the files and write gs://bucket/path",
        )
    if target in MLENGINE_WILDCARDS.services:
        problem = wildcard_problem(path)
        if problem:
            yield MLENGINE_WILDCARDS.error(
                problem,
                where,
                hint="use `dir/*` for a whole folder or `dir/prefix*` for files by prefix",
            )
    if path.startswith(GS):
        yield from gcs_problems(path, where, folder=False, vertex_wildcards=vertex)


def output_path(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The output folder: Cloud Storage for cloud targets, no wildcards."""
    path = doc.spec.output.path
    where: DocPath = ("spec", "output", "path")
    if path is None:
        return
    if "*" not in path and path.startswith(GS):  # most specs: a folder in Cloud Storage
        uri = blank_variables(path)
        if not well_named(uri, True):
            yield from gcs_problems(uri, where, folder=True)
        return
    if doc.spec.target in CLOUD_TARGETS and not path.startswith(GS):
        yield OUTPUT_SCHEME.error(
            f"{doc.spec.target.value} writes outputs to Cloud Storage only: {path!r}",
            where,
            hint="write gs://bucket/folder",
        )
    if "*" in path:
        cited = OUTPUT_SCHEME if doc.spec.target in CLOUD_TARGETS else ENGINE_OUTPUT
        yield cited.error("an output path cannot hold wildcards", where)


class BigQueryUri(NamedTuple):
    """`bq://project[.dataset[.table]]`; a domain-scoped project keeps its dots."""

    project: str
    dataset: str | None
    table: str | None

    @property
    def level(self) -> int:
        """1 for a project, 2 for a dataset, 3 for a table."""
        return 1 + (self.dataset is not None) + (self.table is not None)


def split_bigquery(uri: str) -> BigQueryUri | None:
    """The parts of a bq:// URI, or None when it has more than three parts."""
    body = uri[len(BQ) :]
    domain = ""
    if ":" in body:
        domain, _, body = body.partition(":")
        domain += ":"
    project, *rest = body.split(".", 2)
    if len(rest) == 2 and "." in rest[1]:
        return None
    dataset = rest[0] if rest else None
    table = rest[1] if len(rest) > 1 else None
    return BigQueryUri(domain + project, dataset, table)


def bigquery_problems(
    doc: BatchPredictionJobSpec, uri: str, path: DocPath, *, source: bool
) -> Iterator[Diagnostic]:
    """Form, length and the naming of each part of one bq:// URI."""
    form = BQ_SOURCE if source else BQ_DEST
    example = "bq://project.dataset.table" if source else "bq://project[.dataset[.table]]"
    parts = split_bigquery(uri) if uri.startswith(BQ) else None
    if parts is None or (source and parts.level != 3):
        what = "a BigQuery table URI" if source else "a BigQuery destination"
        yield form.error(f"{uri!r} is not {what}", path, hint=f"write {example}")
        return
    if len(uri) > BQ_MAX and applies(BQ_LENGTH, doc):
        yield BQ_LENGTH.error(f"BigQuery URIs are at most {BQ_MAX} characters", path)
    checks = (
        ("project", parts.project, names.project_problem(parts.project, number_ok=False)),
        ("dataset", parts.dataset, names.dataset_problem(parts.dataset or "x")),
        ("table", parts.table, names.table_problem(parts.table or "x")),
    )
    for part, value, problem in checks:
        if value is not None and problem:
            yield BQ_PARTS.error(
                f"BigQuery {part} {value!r} in {uri!r}: {problem}",
                path,
                hint=f"write {example}",
            )


def bigquery_locations(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The BigQuery source and destination, where the spec names them."""
    inp, out = doc.spec.input, doc.spec.output
    if not applies(BQ_SOURCE, doc):
        return
    if inp.bigquery is not None:
        yield from bigquery_problems(doc, inp.bigquery, ("spec", "input", "bigquery"), source=True)
    if out.bigquery is not None:
        yield from bigquery_problems(
            doc, out.bigquery, ("spec", "output", "bigquery"), source=False
        )


__all__ = [
    "BigQueryUri",
    "GcsUri",
    "bigquery_locations",
    "bigquery_problems",
    "gcs_problems",
    "input_paths",
    "output_path",
    "split_bigquery",
    "split_gcs",
    "well_named",
    "wildcard_problem",
]
