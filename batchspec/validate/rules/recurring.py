"""Rules of recurring specs: the schedule, the trigger and run variables.

Runs of one spec must never write over each other, so a recurring spec's
output path must name the run (`{run.date}`, `{run.id}`, ...), and the names
it yields for the schedule's coming ticks must differ; a variable outside
the documented set, or a variable in a spec that runs once, is an error.
These are batchspec's own rules (no service schedules batch prediction).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from batchspec.diagnostics import Diagnostic
from batchspec.model.limits import DURATION_PATTERN
from batchspec.patterns import lazy
from batchspec.schedule.variables import RUN_ID, VARIABLES, RunContext, references, render_text
from batchspec.validate.rules.core import BATCHSPEC, rule

if TYPE_CHECKING:
    from batchspec.model.spec import BatchPredictionJobSpec

_DURATION: Final = lazy(DURATION_PATTERN)
OVERWRITE_TICKS: Final = 100  # coming ticks whose output paths must all differ
_BASE: Final = ("spec", "schedule")
_OUTPUT: Final = ("spec", "output", "path")
_VARIABLE_HINT: Final = "run variables: " + ", ".join("{" + n + "}" for n in VARIABLES)


ALL: Final = (BATCHSPEC,)
CRON: Final = rule(
    "schedule-cron",
    "BS291",
    ALL,
    "A schedule is five cron fields (or @daily and its family) and startingDeadline a"
    " duration, as Kubernetes CronJob takes them",
    "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax;"
    " cron arithmetic by cronsim",
)
ZONE: Final = rule(
    "schedule-time-zone",
    "BS292",
    ALL,
    "A schedule's timeZone is a name in the IANA time zone database",
    "https://www.iana.org/time-zones (Python zoneinfo)",
)
VARIABLE: Final = rule(
    "run-variable",
    "BS293",
    ALL,
    "Only the documented run variables, only in recurring specs, and fixed input paths"
    " for an input trigger without a schedule",
    "batchspec spec language (docs/spec-v1.md, Recurring runs)",
)
APART: Final = rule(
    "runs-apart",
    "BS294",
    ALL,
    "Every run of a recurring spec writes to its own output path",
    "batchspec spec language (docs/spec-v1.md, Recurring runs)",
)
_RULES: Final = {"BS291": CRON, "BS292": ZONE, "BS293": VARIABLE, "BS294": APART}


def _err(code: str, msg: str, path: tuple[str | int, ...], hint: str | None = None) -> Diagnostic:
    return _RULES[code].error(msg, path, hint)


def blank_variables(text: str) -> str:
    """`text` with every run variable replaced by a plain word (for rules that
    judge the rest of a path, such as the wildcard rules); most paths hold
    none, and the table of blanks was most of the cost of asking."""
    if "{" not in text:
        return text
    return render_text(text, dict.fromkeys(VARIABLES, "run"))


def schedule(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """The cron expression parses (five fields), the zone is an IANA zone."""
    sched = doc.spec.schedule
    if sched is None:
        return
    from batchspec.schedule.cron import Cron, ScheduleError, expand, zone

    try:
        expression = expand(sched.cron)
        Cron.parse(expression)
    except ScheduleError as exc:
        yield _err("BS291", exc.message, (*_BASE, "cron"), exc.hint)
    try:
        zone(sched.time_zone)
    except ScheduleError as exc:
        yield _err("BS292", exc.message, (*_BASE, "timeZone"), exc.hint)
    deadline = sched.starting_deadline
    if deadline is not None and not _DURATION.match(deadline):
        yield _err(
            "BS291",
            f"startingDeadline {deadline!r} is not a duration",
            (*_BASE, "startingDeadline"),
            hint="write e.g. 30m, 2h or 1h30m (units s, m, h, d)",
        )


def _paths(doc: BatchPredictionJobSpec) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if doc.spec.output.path is not None:
        yield _OUTPUT, doc.spec.output.path
    for i, path in enumerate(doc.spec.input.paths or ()):
        yield ("spec", "input", "paths", i), path


def run_variables(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """Only known variables, only in recurring specs, inputs fixed for a trigger."""
    spec = doc.spec
    out = spec.output.path
    if (out is None or "{" not in out) and "{" not in "".join(spec.input.paths or ()):
        return  # no path holds a variable (most specs): one scan, no generator
    for where, text in _paths(doc):
        if "{" not in text:
            continue  # no variable: nothing to report for this path
        names = [name for name, _ in references(text)]
        for name in names:
            if name not in VARIABLES:
                import difflib  # only for an unknown variable: not at start-up

                guess = difflib.get_close_matches(name, list(VARIABLES), n=1)
                yield _err(
                    "BS293",
                    f"unknown run variable {{{name}}} in {text!r}",
                    where,
                    hint=f"did you mean `{{{guess[0]}}}`?" if guess else _VARIABLE_HINT,
                )
        if names and not spec.recurring:
            yield _err(
                "BS293",
                f"run variables need a recurring spec: {text!r} runs once",
                where,
                hint="add spec.schedule or spec.trigger, or write the path out",
            )
        elif names and where != _OUTPUT and spec.schedule is None:
            yield _err(
                "BS293",
                f"the inputs an input trigger watches must be fixed paths: {text!r}",
                where,
                hint="add spec.schedule to read a different folder each tick",
            )


def runs_apart(doc: BatchPredictionJobSpec) -> Iterator[Diagnostic]:
    """A recurring spec's runs write to different output paths."""
    spec, path = doc.spec, doc.spec.output.path
    if not spec.recurring or path is None:
        return  # one run, or a BigQuery table (the service names a new table per job)
    names = {name for name, _ in references(path)}
    if names - set(VARIABLES):
        return  # reported by run_variables
    if not names:
        yield _err(
            "BS294",
            f"every run would write to {path!r}: a recurring spec's output path must name the run",
            _OUTPUT,
            hint="add a run variable, e.g. " + path.rstrip("/") + "/{run.date}/",
        )
        return
    if spec.schedule is None:
        if RUN_ID not in names:
            yield _err(
                "BS294",
                f"runs started by changed inputs would share {path!r}: only {{run.id}} names"
                " each of them",
                _OUTPUT,
                hint="add {run.id} to the output path",
            )
        return
    yield from _ticks_apart(doc, path)


def _ticks_apart(doc: BatchPredictionJobSpec, path: str) -> Iterator[Diagnostic]:
    from batchspec.schedule.cron import Cron, ScheduleError
    from batchspec.schedule.variables import run_key

    sched = doc.spec.schedule
    assert sched is not None
    try:
        cron = Cron.parse(sched.cron, sched.time_zone)
    except ScheduleError:
        return  # reported by schedule
    seen: dict[str, datetime] = {}
    for tick in cron.next(datetime(2026, 1, 1, tzinfo=UTC), OVERWRITE_TICKS):
        rendered = render_text(path, RunContext(run_key(tick), tick, sched.time_zone).values())
        if rendered in seen:
            yield _err(
                "BS294",
                f"the runs of {cron.shown(seen[rendered])} and {cron.shown(tick)} would both"
                f" write to {rendered!r}",
                _OUTPUT,
                hint="name the run more precisely, e.g. {run.date}/{run.time} or {run.id}",
            )
            return
        seen[rendered] = tick


RULES: Final = (schedule, run_variables, runs_apart)
