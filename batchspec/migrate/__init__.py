"""`batchspec import`: bring Cloud ML Engine jobs into batchspec as v1 specs.

    import_text(text) -> ImportResult(jobs, yaml)

The input is an ML Engine `projects.jobs` body (JSON: a create request, a
described job, or a list of them) or a `gcloud ml-engine|ai-platform jobs
submit prediction` command line (possibly inside a script that sets the
variables it uses). Every imported spec is validated and compiled back to
the ML Engine body before anything is written, so an import either gives an
equivalent job or says exactly which flag or field stands in the way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from batchspec.migrate.body import fields_from_body, normalized_body, parse_json_text
from batchspec.migrate.check import round_trip, validated
from batchspec.migrate.fields import JobFields, MigrationError, Problem, SourceKind
from batchspec.migrate.gcloud import fields_from_gcloud
from batchspec.migrate.text import control_characters
from batchspec.migrate.writer import commented, dump, header, spec_data
from batchspec.model.spec import BatchPredictionJobSpec


@dataclass
class ImportedJob:
    """One job: what the source said, the spec written for it, its warnings."""

    fields: JobFields
    data: dict[str, Any]
    spec: BatchPredictionJobSpec
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class ImportResult:
    """Every job of one input and the YAML text to write."""

    kind: SourceKind
    jobs: list[ImportedJob]
    yaml: str


def detect_kind(text: str) -> SourceKind:
    """JSON when the text starts like JSON, else a gcloud command line."""
    return "json" if text.lstrip()[:1] in ("{", "[") else "gcloud"


def import_text(
    text: str,
    *,
    kind: SourceKind | None = None,
    source: str = "-",
    project: str | None = None,
    name: str | None = None,
    variables: Mapping[str, str] | None = None,
) -> ImportResult:
    """Import every job in `text`; raise MigrationError naming what is wrong.

    `project` fills in a project the source does not name (gcloud takes it
    from its configuration); `name` renames a single job; `variables` are
    shell variables for a gcloud script (`--set NAME=VALUE`)."""
    kind = kind or detect_kind(text)
    if not text.strip():
        raise MigrationError(f"input {source}", [Problem("<input>", "is empty")])
    if control_characters(text):
        raise MigrationError(f"input {source}", control_characters(text))
    pairs: list[tuple[JobFields, Mapping[str, Any] | None]] = []
    if kind == "json":
        for i, body in enumerate(parse_json_text(text, source=source)):
            label = f"[{i}]" if text.lstrip().startswith("[") else ""
            fields = fields_from_body(body, label=label)
            pairs.append((fields, body))
    else:
        pairs.append((fields_from_gcloud(text, variables=variables, project=project), None))
    if name is not None:
        if len(pairs) != 1:
            raise MigrationError(
                f"input {source}",
                [Problem("--name", f"renames one job; the input has {len(pairs)}")],
            )
        pairs[0][0].name = name
    _check_unique(pairs, source)
    jobs = [_one(fields, body, project) for fields, body in pairs]
    documents = [
        commented(
            job.data,
            header_text=header(kind, source, job.fields.command),
            notes=[*job.fields.notes, *(str(w) for w in job.warnings)],
            project_known=bool(job.data["spec"].get("project")),
        )
        for job in jobs
    ]
    return ImportResult(kind, jobs, dump(documents))


def _one(fields: JobFields, body: Mapping[str, Any] | None, project: str | None) -> ImportedJob:
    if body is not None and project and not fields.project:
        fields.project = project
    elif body is not None and project and fields.project != project and fields.model:
        # the job's project is --project; the model lives in its own
        fields.model = f"projects/{fields.project}/models/{fields.model}"
        fields.project = project
    data = spec_data(fields)
    spec, warnings = validated(fields, data)
    expected = normalized_body(body, name=fields.name) if body is not None else None
    round_trip(fields, spec, expected)
    return ImportedJob(fields, data, spec, warnings)


def _check_unique(pairs: list[tuple[JobFields, Any]], source: str) -> None:
    seen: set[str] = set()
    problems = []
    for fields, _ in pairs:
        if fields.name in seen:
            problems.append(
                Problem(fields.origin.get("name", "jobId"), f"job name {fields.name!r} repeats")
            )
        seen.add(fields.name)
    if problems:
        raise MigrationError(f"input {source}", problems)


__all__ = [
    "ImportResult",
    "ImportedJob",
    "JobFields",
    "MigrationError",
    "Problem",
    "detect_kind",
    "import_text",
]
