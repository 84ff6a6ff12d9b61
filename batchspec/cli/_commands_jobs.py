"""The commands that work on recorded jobs and state: status, get, history,
runs, cancel, results, logs, ui, report, state, completion (in `--help`'s
order, after those of `_commands_specs`). Data only, see `_surface`."""

from __future__ import annotations

from batchspec.cli._surface import (
    HOME,
    JOB,
    OUTPUT,
    STATE,
    Command,
    Exclusive,
    arg,
    flag,
    output,
    target_args,
)

UI_TOKEN_ENV = "BATCHSPEC_UI_TOKEN"
SHELLS = ("bash", "zsh", "fish")

STATUS = Command(
    "status",
    module="batchspec.cli.status",
    help="list jobs and their states",
    description="The current job of every spec name (with --all: every job ever"
    " recorded). --refresh asks the backends first and records what they say.",
    args=(
        flag("--all", help="include superseded and forgotten jobs"),
        flag("--refresh", help="ask the backends first"),
        OUTPUT,
        STATE,
    ),
    examples=(
        ("batchspec status", "every spec's current job and its state"),
        ("batchspec status --refresh --all -o json", "ask the backends first; every job, as JSON"),
    ),
)

GET = Command(
    "get",
    module="batchspec.cli.get",
    help="show one job in detail",
    description="JOB is a spec name (its current job), a remote job name, or #ID.",
    args=(JOB, OUTPUT, flag("--body", help="include the recorded request body"), STATE),
    examples=(
        ("batchspec get review_sentiment", "the current job of a spec: state, counts, history"),
        (
            "batchspec get review_sentiment --body -o json",
            "with the submitted request body, as JSON",
        ),
    ),
)

HISTORY = Command(
    "history",
    module="batchspec.cli.history",
    help="show recorded transitions (and drift and audit entries)",
    description="Every event batchspec recorded: intents, submits, adoptions, state"
    " changes, cancels, forgets; with --drift and --audit, drift findings and lease breaks.",
    args=(
        arg("job", nargs="?", help="only this spec name"),
        arg("--limit", type=int, default=100, help="newest N events (default 100)"),
        flag("--drift", help="also list drift findings"),
        flag("--audit", help="also list the audit log"),
        flag("--names", help="list every job name ever used (spec and remote names) instead"),
        OUTPUT,
        STATE,
    ),
    examples=(
        ("batchspec history review_sentiment", "every recorded transition of one job"),
        (
            "batchspec history --drift --audit -o json",
            "with drift findings and the audit log, JSON",
        ),
        ("batchspec history --names", "every job name ever used (names are never reused)"),
    ),
)

RUNS = Command(
    "runs",
    module="batchspec.cli.runs",
    help="list the runs of a scheduled or input-triggered spec",
    description="Scheduled time, run key, state, counts and output of each run of JOB,"
    " and when it runs next.",
    args=(
        arg("job", help="spec name"),
        flag("--all", help="every run, not only the kept ones"),
        OUTPUT,
        STATE,
    ),
    examples=(
        ("batchspec runs review_sentiment_nightly", "the kept runs and the next three ticks"),
        ("batchspec runs review_sentiment_nightly --all -o json", "every run in history, as JSON"),
    ),
)

CANCEL = Command(
    "cancel",
    module="batchspec.cli.cancel",
    help="cancel a running job",
    description="JOB is a spec name (its current job), a remote job name, or #ID.",
    args=(
        JOB,
        arg("--reason", default="cancelled by a user", help="recorded with the cancel"),
        OUTPUT,
        STATE,
    ),
    examples=(
        ("batchspec cancel review_sentiment", "cancel the current job of a spec"),
        ("batchspec cancel review_sentiment --reason 'bad input' -o json", "record why; JSON out"),
    ),
)

RESULTS = Command(
    "results",
    module="batchspec.cli.results",
    help="print a job's predictions joined to their input keys",
    description="Reads the job's result files (and, with --errors, its error files) and"
    " prints one row per instance with its key.",
    args=(
        JOB,
        Exclusive(
            (
                arg(
                    "--run",
                    metavar="KEY",
                    help="a recurring spec: the run with this run key (a unique prefix is"
                    " enough; `batchspec runs JOB` lists them)",
                ),
                flag("--latest", help="a recurring spec: the newest run that succeeded"),
            )
        ),
        output(["jsonl", "csv"]),
        flag("--errors", help="include instances that failed"),
        flag(
            "--inputs",
            help="read the spec's inputs too: every instance once, with missing ones named",
        ),
        arg("--out", metavar="FILE", help="write to FILE instead of stdout"),
        STATE,
    ),
    examples=(
        ("batchspec results ticket_priority", "predictions joined to their keys, as JSON lines"),
        (
            "batchspec results ticket_priority --errors -o csv --out results.csv",
            "with failures, CSV",
        ),
    ),
)

LOGS = Command(
    "logs",
    module="batchspec.cli.logs",
    help="show a job's log (local, Ray, Vertex AI, genai, ML Engine)",
    description="Print the log of a job: the events log of a local job's folder, Ray's"
    " job log, or a cloud job's entries in Cloud Logging. JOB is a spec name, #ID or"
    " remote job name; SPEC a spec file.",
    args=(
        arg("ref", metavar="JOB|SPEC", help="spec name, #ID, remote job name or spec file"),
        arg("--name", help="which job, when the spec file holds several documents"),
        flag("-f", "--follow", help="keep printing until the job ends"),
        HOME,
        *target_args("for a spec file of a local or Ray job: where it runs"),
        OUTPUT,
        STATE,
    ),
    examples=(
        ("batchspec logs ticket_priority", "the log of a spec's current job (any backend)"),
        ("batchspec logs specs/tickets_local.yaml --follow", "a spec file's job, until it ends"),
        (
            "batchspec logs projects/p/locations/us-central1/batchPredictionJobs/123 -o json",
            "a Vertex AI job's Cloud Logging entries, as JSON lines",
        ),
    ),
)

UI = Command(
    "ui",
    module="batchspec.cli.ui",
    help="open a live web view of the recorded jobs (read-only)",
    description="Serve the jobs list, job pages and result plots over the recorded"
    " state, updating while jobs run. Needs the ui extra: pip install 'batchspec[ui]'.",
    args=(
        arg("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)"),
        arg("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)"),
        flag(
            "--allow-remote",
            help="allow binding an interface other browsers can reach (a token is then required)",
        ),
        arg(
            "--token-file",
            metavar="FILE",
            help=f"file holding the access token (default: ${UI_TOKEN_ENV}, else a new random one)",
        ),
        STATE,
    ),
    examples=(
        ("batchspec ui", "the jobs of .batchspec/state.db at http://127.0.0.1:8080"),
        ("batchspec ui --port 0 --state ci/state.db", "another state file, on a free port"),
        ("batchspec ui --state gs://acme-state/prod", "the team's state, following each new write"),
    ),
)

REPORT = Command(
    "report",
    module="batchspec.cli.report",
    help="write an offline HTML report: plan, status, drift and plots",
    description="Write one self-contained HTML file (styles, scripts and data inlined;"
    " opens with no network) with the plan for PATHS, the recorded jobs, drift and the"
    " result plots. Needs the ui extra: pip install 'batchspec[ui]'.",
    args=(
        arg("paths", nargs="*", help="spec files or folders (default: specs/ if present)"),
        arg("--html", required=True, metavar="FILE", help="where to write the report"),
        arg(
            "--jobs",
            type=int,
            default=20,
            metavar="N",
            help="full sections (timeline, plots, revision) for the first N current jobs"
            " (default 20)",
        ),
        STATE,
    ),
    examples=(
        (
            "batchspec report --html report.html",
            "plan, status, drift and plots in one offline file",
        ),
        ("batchspec report specs --jobs 5 --html out/report.html", "full sections for 5 jobs only"),
    ),
)

# Every action of `state` takes the state and how long to wait for its lock.
_STATE_LOCK = (
    STATE,
    arg(
        "--lock-timeout",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for the lock (default: fail at once)",
    ),
)

STATE_ACTIONS = (
    Command(
        "pull",
        help="bring the local working copy in step (or --out FILE: download a copy)",
        description="Without --out: under the lock, update the local working copy from the"
        " bucket (pushing first any writes an interrupted run left in it). With --out FILE:"
        " download the live state to FILE, without locking.",
        args=(
            arg("--out", "-O", metavar="FILE", help="download a copy to FILE"),
            flag("--force", help="replace FILE if it exists"),
            *_STATE_LOCK,
        ),
    ),
    Command(
        "push",
        help="make a local state file the remote state (under the lock)",
        description="Push FILE (for instance a local .batchspec/state.db moving to the"
        " bucket) as the new remote state. Refused when the bucket holds another state or a"
        " newer one, unless --force; the replaced generation is kept either way.",
        args=(
            arg("file", help="the state file to push"),
            flag("--force", help="replace another or a newer state"),
            *_STATE_LOCK,
        ),
    ),
    Command(
        "lock-info",
        help="who holds the lock; the live generation",
        args=(OUTPUT, *_STATE_LOCK),
    ),
    Command(
        "break-lock",
        help="break the lock of a holder that is gone (recorded in the audit log)",
        description="Take the lock from its holder and release it. Only for a holder that is"
        " gone (killed, its CI runner cancelled): a live holder would go on writing. Pass the"
        " lock id `lock-info` shows to break exactly that lock.",
        args=(
            arg("--id", dest="lock_id", metavar="LOCK_ID", help="break only this lock"),
            *_STATE_LOCK,
        ),
    ),
    Command(
        "versions",
        help="the generations that can be restored",
        args=(OUTPUT, *_STATE_LOCK),
    ),
    Command(
        "restore",
        help="make an earlier generation the live state again",
        description="Put an earlier generation back as the live state (a new generation;"
        " the one it replaces is kept too).",
        args=(
            arg("generation", type=int, help="a generation `state versions` lists"),
            *_STATE_LOCK,
        ),
    ),
)

STATE_COMMAND = Command(
    "state",
    module="batchspec.cli.state",
    help="remote state: pull, push, lock-info, break-lock, versions, restore",
    description="Work with remote state (--state gs://BUCKET/PREFIX): see who holds its"
    " lock, pull and push it, break a stale lock, list and restore earlier generations.",
    actions=STATE_ACTIONS,
    examples=(
        (
            "batchspec state push .batchspec/state.db --state gs://acme-state/prod",
            "move a local state to a bucket, where the team and CI share it",
        ),
        (
            "batchspec state lock-info --state gs://acme-state/prod",
            "who holds the lock, since when",
        ),
        (
            "batchspec state break-lock --state gs://acme-state/prod",
            "break the lock of a run that was killed (audited)",
        ),
    ),
)

COMPLETION = Command(
    "completion",
    module="batchspec.cli.completion",
    help="print the shell completion script (bash, zsh, fish)",
    description="Print a script that makes the shell complete batchspec's commands,"
    " options, spec paths and job names. Load it in the shell's start-up file.",
    args=(arg("shell", choices=SHELLS, help="the shell to complete in"),),
    examples=(
        ("source <(batchspec completion bash)", "complete batchspec in this bash session"),
        (
            "batchspec completion zsh > ~/.zfunc/_batchspec",
            "install it for zsh (with `fpath+=~/.zfunc` and `compinit` in ~/.zshrc)",
        ),
        (
            "batchspec completion fish > ~/.config/fish/completions/batchspec.fish",
            "install it for fish",
        ),
    ),
)

JOB_COMMANDS = (
    STATUS,
    GET,
    HISTORY,
    RUNS,
    CANCEL,
    RESULTS,
    LOGS,
    UI,
    REPORT,
    STATE_COMMAND,
    COMPLETION,
)
