"""Read `gcloud ml-engine|ai-platform jobs submit prediction` command lines.

The flags and their rules follow gcloud's own command (GA and beta tracks):
`JOB` positional; `(--model | --model-dir)` required and exclusive;
`--version` only with `--model`; `--input-paths` comma separated (no spaces);
`--data-format` one of text, tf-record, tf-record-gzip (the old uppercase
spellings and `json` are read too); `--output-path` and `--region` required;
`--max-worker-count`, `--batch-size`, `--runtime-version`,
`--signature-name`, `--labels KEY=VALUE,...`; the global `--project`. gcloud
turns `--model m` into `projects/<project>/models/m`, and so does the spec.

Flags that only shape gcloud's own output (`--format`, `--verbosity`,
`--quiet`...) are accepted and ignored; anything else is an error naming the
flag, because silently dropping a setting would import a different job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from batchspec.migrate.fields import JobFields, MigrationError, Problem, at_least_one
from batchspec.migrate.shell import Command, read_script, words_of

GROUPS = ("ml-engine", "ai-platform")
TRACKS = ("alpha", "beta")
VALUE_FLAGS = (
    "--model",
    "--model-dir",
    "--version",
    "--input-paths",
    "--output-path",
    "--region",
    "--data-format",
    "--max-worker-count",
    "--batch-size",
    "--runtime-version",
    "--signature-name",
    "--labels",
    "--project",
)
IGNORED_VALUE_FLAGS = (
    "--account",
    "--billing-project",
    "--configuration",
    "--format",
    "--impersonate-service-account",
    "--trace-token",
    "--verbosity",
)
IGNORED_SWITCHES = (
    "--quiet",
    "-q",
    "--log-http",
    "--user-output-enabled",
    "--no-user-output-enabled",
    "--async",
)
UNSUPPORTED = {
    "--accelerator-count": "ML Engine batch accelerators (alpha track) have no v1 field;"
    " on Vertex AI use resources.accelerator",
    "--accelerator-type": "ML Engine batch accelerators (alpha track) have no v1 field;"
    " on Vertex AI use resources.accelerator",
    "--flags-file": "write the flags out on the command line",
}
DATA_FORMATS = {
    "text": "TEXT",
    "tf-record": "TF_RECORD",
    "tf-record-gzip": "TF_RECORD_GZIP",
    "json": "JSON",
    # the first ml-engine releases took the enum names themselves
    "TEXT": "TEXT",
    "TF_RECORD": "TF_RECORD",
    "TF_RECORD_GZIP": "TF_RECORD_GZIP",
    "JSON": "JSON",
}


@dataclass
class _Parsed:
    job: str | None
    flags: dict[str, str]
    problems: list[Problem]
    broken: set[str]


def fields_from_gcloud(
    text: str,
    *,
    variables: Mapping[str, str] | None = None,
    project: str | None = None,
) -> JobFields:
    """The job a gcloud command (or a script around one) submits."""
    command = _the_command(text, variables)
    words, problems = words_of(command)
    if problems:
        raise MigrationError("gcloud command", problems)
    parsed = _parse(words, command.line)
    fields = _fields(parsed, project)
    if parsed.problems:
        raise MigrationError("gcloud command", parsed.problems)
    assert fields is not None
    fields.command = " ".join(command.text.split())
    return fields


def _the_command(text: str, variables: Mapping[str, str] | None) -> Command:
    script = read_script(text, variables)
    found = [c for c in script.commands if c.text.split(None, 1)[0] == "gcloud"]
    if len(found) != 1:
        what = "no `gcloud` command" if not found else f"{len(found)} gcloud commands"
        raise MigrationError(
            "gcloud command",
            [
                Problem(
                    "<input>",
                    f"found {what}; expected one `gcloud ml-engine jobs submit prediction`",
                    "import one job per command; a JSON body is read with --from json",
                )
            ],
        )
    return found[0]


def _parse(words: list[str], line: int) -> _Parsed:
    problems: list[Problem] = []
    flags: dict[str, str] = {}
    broken: set[str] = set()
    positionals: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("-") or word == "-":
            positionals.append(word)
            continue
        if word == "--":
            positionals.extend(words[i:])
            break
        name, has_value, value = word.partition("=")
        if name in IGNORED_SWITCHES:
            continue
        if name in UNSUPPORTED:
            problems.append(Problem(name, "not supported by batchspec import", UNSUPPORTED[name]))
            if not has_value and i < len(words) and not words[i].startswith("-"):
                i += 1
            continue
        if name not in VALUE_FLAGS and name not in IGNORED_VALUE_FLAGS:
            problems.append(
                Problem(name, "unknown flag for `jobs submit prediction`", _guess(name))
            )
            if not has_value and i < len(words) and not words[i].startswith("-"):
                i += 1  # most gcloud flags take a value: do not read it as an argument
            continue
        if not has_value:
            if i >= len(words) or words[i].startswith("--"):
                problems.append(Problem(name, "needs a value"))
                broken.add(name)
                continue
            value = words[i]
            i += 1
        if name in IGNORED_VALUE_FLAGS:
            continue
        if name in flags:
            problems.append(Problem(name, "given twice", "keep one"))
            continue
        flags[name] = value
    job = _command_path(positionals, problems)
    return _Parsed(job, flags, problems, broken)


def _guess(name: str) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, VALUE_FLAGS, n=1)
    return f"did you mean {found[0]}?" if found else None


def _command_path(positionals: list[str], problems: list[Problem]) -> str | None:
    words = list(positionals)
    if words and words[0] == "gcloud":
        words.pop(0)
    if words and words[0] in TRACKS:
        words.pop(0)
    expected = ["<ml-engine|ai-platform>", "jobs", "submit", "prediction"]
    head = words[:4]
    if len(head) < 4 or head[0] not in GROUPS or head[1:] != ["jobs", "submit", "prediction"]:
        problems.append(
            Problem(
                "command",
                f"`gcloud {' '.join(words[:4])}` is not `gcloud {' '.join(expected)}`",
                "only batch prediction submissions can be imported",
            )
        )
        return None
    rest = words[4:]
    if not rest:
        problems.append(
            Problem("JOB", "the job name (first argument after `prediction`) is missing")
        )
        return None
    if len(rest) > 1:
        problems.append(Problem(rest[1], "unexpected argument", "quote values that hold spaces"))
    return rest[0]


def _fields(parsed: _Parsed, project: str | None) -> JobFields | None:
    flags, problems = parsed.flags, parsed.problems
    for name in ("--input-paths", "--output-path", "--region", "--data-format"):
        if not flags.get(name) and name not in parsed.broken:
            problems.append(Problem(name, "required flag is missing"))
    model, model_dir, version = (
        flags.get("--model"),
        flags.get("--model-dir"),
        flags.get("--version"),
    )
    if model and model_dir:
        problems.append(Problem("--model-dir", "give --model or --model-dir, not both"))
    if not model and not model_dir:
        problems.append(Problem("--model", "one of --model or --model-dir is required"))
    if version and not model:
        problems.append(
            Problem(
                "--version", "only allowed with --model", "a version belongs to a deployed model"
            )
        )
    data_format = DATA_FORMATS.get(flags.get("--data-format", ""), "")
    if flags.get("--data-format") and not data_format:
        problems.append(
            Problem(
                "--data-format",
                f"{flags['--data-format']!r} is not a data format",
                "one of: text, tf-record, tf-record-gzip",
            )
        )
    paths = [p for p in flags.get("--input-paths", "").split(",")]
    if flags.get("--input-paths") and not all(paths):
        problems.append(
            Problem(
                "--input-paths", "empty path in the list", "separate paths with commas, no spaces"
            )
        )
    fields = JobFields(
        name=parsed.job or "",
        data_format=data_format,
        input_paths=[p for p in paths if p],
        output_path=flags.get("--output-path", ""),
        region=flags.get("--region", ""),
        project=flags.get("--project") or project,
        version=version,
        uri=model_dir,
        max_worker_count=_count(flags, "--max-worker-count", problems),
        batch_size=_count(flags, "--batch-size", problems),
        runtime_version=flags.get("--runtime-version"),
        signature_name=flags.get("--signature-name"),
        labels=_labels(flags.get("--labels"), problems),
        origin=dict(ORIGIN),
    )
    if model:
        _model(model, fields, problems)
    return fields


ORIGIN = {
    "name": "JOB",
    "labels": "--labels",
    "data_format": "--data-format",
    "input_paths": "--input-paths",
    "output_path": "--output-path",
    "region": "--region",
    "model": "--model",
    "version": "--version",
    "uri": "--model-dir",
    "max_worker_count": "--max-worker-count",
    "batch_size": "--batch-size",
    "runtime_version": "--runtime-version",
    "signature_name": "--signature-name",
    "output_data_format": "--data-format",
    "project": "--project",
}


def _model(model: str, fields: JobFields, problems: list[Problem]) -> None:
    """`m` or `projects/P/models/m` (gcloud parses either as a resource)."""
    parts = model.split("/")
    if len(parts) == 4 and parts[0] == "projects" and parts[2] == "models":
        if fields.project and fields.project != parts[1]:
            fields.model = model  # another project's model: keep it whole
        else:
            fields.project, fields.model = fields.project or parts[1], parts[3]
    elif "/" in model:
        problems.append(Problem("--model", f"{model!r} is not a model name", "e.g. census"))
    else:
        fields.model = model


def _count(flags: Mapping[str, str], name: str, problems: list[Problem]) -> int | None:
    raw = flags.get(name)
    if raw is None:
        return None
    return at_least_one(raw, name, problems, expected="a whole number")


def _labels(raw: str | None, problems: list[Problem]) -> dict[str, str]:
    if not raw:
        return {}
    labels: dict[str, str] = {}
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key:
            problems.append(Problem("--labels", f"{item!r} is not KEY=VALUE"))
            continue
        labels[key] = value
    return labels
