"""The commands that work from spec files: init, validate, schema, render,
import, run, plan, apply, reconcile, drift (in `--help`'s order; the job and
state commands are in `_commands_jobs`). Data only, see `_surface`."""

from __future__ import annotations

import argparse

from batchspec.cli._surface import (
    HOME,
    LEASE,
    OUTPUT,
    RETIRED,
    SELECT,
    STATE,
    WRITING_STATE,
    Command,
    arg,
    flag,
    output,
    target_args,
)

TARGET_CHOICES = ["vertex", "mlengine", "genai", "local", "ray"]

INIT = Command(
    "init",
    module="batchspec.cli.init",
    help="write a starter project: specs, editor schema, pre-commit, GitHub workflow",
    description="Write a starter batchspec project into DIR (default: this folder):"
    " specs/ with a local and a Vertex AI example, the local example's model and data,"
    " the JSON Schema association for editors, a pre-commit hook and the GitHub"
    " workflow. Existing files are never overwritten: init lists them and exits 1.",
    args=(arg("dir", nargs="?", default=".", metavar="DIR", help="where (default: .)"),),
    examples=(
        ("batchspec init", "start a project in this folder"),
        (
            "batchspec init jobs && cd jobs && batchspec apply --target local --wait",
            "start one in a new folder and run its local job",
        ),
    ),
)

VALIDATE = Command(
    "validate",
    module="batchspec.cli.validate",
    help="check specs against the schema and the rules",
    description="Check spec files against the JSON Schema and batchspec's rules."
    " Exit 0 when there is no error, 1 otherwise.",
    args=(
        arg("paths", nargs="*", help="files or folders (default: specs/)"),
        OUTPUT,
        flag("--strict", help="treat warnings as errors"),
    ),
    examples=(
        ("batchspec validate", "check every spec in specs/ (exit 0 clean, 1 errors)"),
        (
            "batchspec validate specs/tickets_local.yaml --strict",
            "one file; warnings count as errors",
        ),
        ("batchspec validate -o json", "diagnostics as JSON, for editors and bots"),
    ),
)

SCHEMA = Command(
    "schema",
    module="batchspec.cli.schema",
    help="print the JSON Schema of spec documents (or, with --path, where it is)",
    description="Print the JSON Schema (draft 2020-12) that spec documents follow. Its"
    " $id, https://json.schemastore.org/batchspec-v1.json, is where editors fetch it"
    " (docs/spec-v1.md shows VS Code and JetBrains set-ups).",
    args=(
        flag(
            "--path",
            help="print the path of the schema file inside the installed package instead",
        ),
    ),
    examples=(
        ("batchspec schema > batchspec.v1.schema.json", "save the schema next to your specs"),
        ("batchspec schema --path", "print where the installed package keeps it"),
        (
            'check-jsonschema --schemafile "$(batchspec schema --path)" specs/*.yaml',
            "check specs with another validator, offline",
        ),
    ),
)

RENDER = Command(
    "render",
    module="batchspec.cli.render",
    help="print the request body each spec compiles to",
    description="Compile specs and print the request bodies (the exact JSON a service"
    " receives), with method, URL and fingerprint. Exit 1 when a spec is invalid or"
    " cannot be compiled for the target.",
    args=(
        arg("paths", nargs="+", metavar="SPEC", help="spec files or folders"),
        arg(
            "--target",
            "-t",
            choices=TARGET_CHOICES,
            help="compile for this target instead of each spec's own",
        ),
        output(["json", "yaml"]),
        arg(
            "--name",
            "-n",
            action="append",
            default=[],
            help="only the spec with this job name (repeatable)",
        ),
        flag("--body-only", help="print only the request body (needs exactly one spec)"),
        arg(
            "--run-at",
            metavar="TIME",
            help="a scheduled or input-triggered spec: render its run at TIME (ISO 8601;"
            " without an offset, on the schedule's wall clock) instead of its next run",
        ),
        arg(
            "--check",
            dest="check",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="check each body against Google's discovery schema (default: when"
            " google-api-python-client is installed)",
        ),
    ),
    examples=(
        ("batchspec render specs/tickets_vertex.yaml", "the exact request Vertex AI will receive"),
        ("batchspec render specs -n ticket_priority -o yaml", "one job of a folder, as YAML"),
        ("batchspec render specs/tickets_vertex.yaml --body-only", "only the request body"),
    ),
)

IMPORT = Command(
    "import",
    module="batchspec.cli.import_",
    help="import an ML Engine job body or gcloud command as a spec",
    description="Write a v1 spec equivalent to a Cloud ML Engine batch prediction job,"
    " given as a projects.jobs JSON body or a `gcloud ml-engine|ai-platform jobs submit"
    " prediction` command line. The spec is compiled back and compared before it is"
    " written. Exit 1 when the input cannot be imported.",
    args=(
        arg("input", metavar="FILE", help="file to read, or - for stdin"),
        arg(
            "--from",
            dest="kind",
            choices=["json", "gcloud"],
            help="input kind (default: JSON when it starts with { or [)",
        ),
        arg("-o", "--output", metavar="OUT", help="write the spec here (default: stdout)"),
        flag("--force", help="overwrite OUT if it exists"),
        arg("--project", help="project for a source that names none"),
        arg("--name", help="job name for the spec (default: the job id)"),
        arg(
            "--set",
            dest="variables",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a shell variable the gcloud command uses (repeatable)",
        ),
    ),
    examples=(
        ("batchspec import job.json -o specs/census.yaml", "an ML Engine job body as a spec"),
        (
            "batchspec import submit.sh --from gcloud --set MODEL=census",
            "a gcloud script as a spec",
        ),
    ),
)

RUN = Command(
    "run",
    module="batchspec.cli.run",
    help="run a spec on the embedded local engine (or a Ray cluster)",
    description="Run one spec on this machine with the local engine: a detached job that"
    " keeps running if this command stops. Running the same spec again attaches to its"
    " job (resuming it if it was interrupted). With --target ray the job runs on a Ray"
    " cluster instead.",
    args=(
        arg("spec", help="spec file"),
        arg("--name", help="which job, when the file holds several documents"),
        flag("--detach", help="start the job and return at once"),
        flag("--rerun", help="run again although this exact job already finished"),
        flag("--cancel", help="cancel this spec's job"),
        HOME,
        *target_args("where to run"),
        OUTPUT,
        STATE,
    ),
    examples=(
        ("batchspec run specs/tickets_local.yaml", "run one spec here and follow it to the end"),
        (
            "batchspec run specs/tickets_local.yaml --detach -o json",
            "start it and return; JSON out",
        ),
        ("batchspec run specs/tickets_local.yaml --cancel", "cancel that spec's job"),
    ),
)

PLAN = Command(
    "plan",
    module="batchspec.cli.plan",
    help="show what apply would do (exit 0 no changes, 2 changes, 1 errors)",
    description="Compare the specs with recorded state (and, with --refresh, with what"
    " the backends report) and show one action per job with its reason.",
    args=(
        arg("paths", nargs="*", help="spec files or folders (default: specs/)"),
        output(
            ["text", "markdown", "json"],
            help="text for terminals, markdown for a pull request comment, json for machines",
        ),
        flag("--refresh", help="ask the backends first"),
        arg("--out", metavar="PLAN.json", help="save the plan for `batchspec apply PLAN.json`"),
        arg(
            "--comment-dir",
            metavar="DIR",
            help="write the markdown plan as comment-1.md, comment-2.md... (each under the limit)",
        ),
        arg(
            "--comment-limit",
            type=int,
            default=65_536,
            metavar="CHARS",
            help="largest comment (GitHub: 65536 characters)",
        ),
        arg(
            "--replace",
            action="append",
            default=[],
            metavar="NAME",
            help="plan a new job for NAME even if nothing changed (repeatable)",
        ),
        flag("--diff", help="text output: show body diffs"),
        flag("--verbose", "-v", help="text output: list unchanged jobs"),
        *SELECT,
        RETIRED,
        STATE,
    ),
    examples=(
        (
            "batchspec plan",
            "what applying specs/ would do (exit 0 no changes, 2 changes, 1 errors)",
        ),
        ("batchspec plan --refresh -o json", "ask the backends first; print the plan as JSON"),
        (
            "batchspec plan --out plan.json && batchspec apply plan.json",
            "save the plan, then apply exactly that plan",
        ),
    ),
)

APPLY = Command(
    "apply",
    module="batchspec.cli.apply",
    help="submit, replace, resubmit, cancel and forget jobs as planned",
    description="Apply the specs (planning first) or a plan saved with `batchspec plan"
    " --out`. Submission is exactly-once: an interrupted apply is safe to run again.",
    args=(
        arg("paths", nargs="*", help="spec files or folders (default: specs/), or one PLAN.json"),
        flag("--wait", help="follow the jobs to their end"),
        arg(
            "--replace",
            action="append",
            default=[],
            metavar="NAME",
            help="run NAME again as a new job even if nothing changed (repeatable)",
        ),
        flag(
            "--now",
            help="run each scheduled or input-triggered spec once now, besides its schedule"
            " (without it, apply records the schedule and the first tick runs it)",
        ),
        arg(
            "--max-running",
            type=int,
            default=0,
            metavar="N",
            help="with --wait: at most N jobs running at once (default: no limit)",
        ),
        arg(
            "--interval",
            type=float,
            default=2.0,
            metavar="SECONDS",
            help="with --wait: polling interval (default 2; it backs off while nothing changes)",
        ),
        flag("--no-progress", help="log lines instead of bars"),
        flag("--yes", "-y", help="do not ask before applying (CI never asks)"),
        flag(
            "--dry-run",
            help="show what would be done (refreshed from the backends); change nothing",
        ),
        OUTPUT,
        *SELECT,
        RETIRED,
        *WRITING_STATE,
        *LEASE,
    ),
    examples=(
        ("batchspec apply", "plan specs/, show the plan, ask, then submit (exactly once)"),
        (
            "batchspec apply --target local --wait",
            "run the local specs and follow them to the end",
        ),
        ("batchspec apply plan.json -o json", "apply a saved plan (never asked about); JSON out"),
    ),
)

RECONCILE = Command(
    "reconcile",
    module="batchspec.cli.reconcile",
    help="run the controller loop (submit, follow, retry, cancel, record drift)",
    description="Level-triggered controller: every pass compares specs, recorded state"
    " and the backends, then acts. Holds the lease so only one controller acts.",
    args=(
        arg("paths", nargs="*", help="spec files or folders (default: specs/)"),
        arg(
            "--interval",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="time between passes while things change (default 30)",
        ),
        arg(
            "--max-interval",
            type=float,
            default=300.0,
            metavar="SECONDS",
            help="longest wait while nothing changes or after errors (default 300)",
        ),
        flag("--once", help="one pass, then exit"),
        flag(
            "--dry-run",
            help="show the plan the next pass would act on (refreshed); change nothing",
        ),
        OUTPUT,
        arg(
            "--max-running",
            type=int,
            default=20,
            metavar="N",
            help="at most N jobs running at once; 0 for no limit (default 20)",
        ),
        *SELECT,
        RETIRED,
        *WRITING_STATE,
        *LEASE,
    ),
    examples=(
        ("batchspec reconcile --once", "one pass: submit, follow, retry, record; then exit"),
        ("batchspec reconcile --dry-run", "show what the next pass would do; change nothing"),
        ("batchspec reconcile --interval 60 -o json", "run as a service, one JSON line per pass"),
    ),
)

DRIFT = Command(
    "drift",
    module="batchspec.cli.drift",
    help="report drift (read-only; exit 2 when there is any)",
    description="Compare specs, recorded state, the backends and the outputs; report"
    " (and record) everything that drifted. Changes no job.",
    args=(
        arg("paths", nargs="*", help="spec files or folders (default: specs/ if present)"),
        OUTPUT,
        flag("--no-outputs", help="skip output checksum checks"),
        *SELECT,
        STATE,
    ),
    examples=(
        (
            "batchspec drift",
            "report drift of specs/ against state and the backends (exit 2 if any)",
        ),
        ("batchspec drift --no-outputs -o json", "skip output checksums; JSON out"),
    ),
)

SPEC_COMMANDS = (INIT, VALIDATE, SCHEMA, RENDER, IMPORT, RUN, PLAN, APPLY, RECONCILE, DRIFT)
