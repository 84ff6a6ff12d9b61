"""Run variables: `{run.date}` and friends in output and input paths.

Every run of a recurring spec writes apart from the others because its
output path names the run. The set is small and documented
(docs/spec-v1.md, Recurring runs); the values are taken from the run's
scheduled time on the schedule's wall clock (an input-triggered run without
a schedule: the time its inputs were seen to change, in UTC).

A reference is `{name}` not preceded by `$` (`${env:NAME}` is a secret
reference, resolved elsewhere); any name outside the set is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

from batchspec.patterns import lazy

REFERENCE = lazy(r"(?<!\$)\{([^{}]*)\}")

_TIME_FORMATS = {
    "run.date": "%Y-%m-%d",
    "run.time": "%H%M",
    "run.year": "%Y",
    "run.month": "%m",
    "run.day": "%d",
    "run.hour": "%H",
    "run.minute": "%M",
}
RUN_ID = "run.id"
VARIABLES: dict[str, str] = {
    "run.date": "the scheduled day, 2026-12-03",
    "run.time": "the scheduled time of day, 0200 (hours and minutes)",
    "run.year": "2026",
    "run.month": "12",
    "run.day": "03",
    "run.hour": "02",
    "run.minute": "00",
    RUN_ID: "the run key: 20261203T010000Z (the scheduled time in UTC), or inputs-<digest>"
    " for a run started by changed inputs",
}


class RunContext(NamedTuple):
    """What a run's variables are made of."""

    key: str
    at: datetime  # the scheduled time (aware)
    zone_name: str = "UTC"

    def values(self) -> dict[str, str]:
        """Every variable's text for this run."""
        from batchspec.schedule.cron import zone

        local = self.at.astimezone(zone(self.zone_name))
        out = {name: local.strftime(fmt) for name, fmt in _TIME_FORMATS.items()}
        out[RUN_ID] = self.key
        return out


def references(text: str) -> Iterator[tuple[str, int]]:
    """(name, offset) of every variable reference in `text`."""
    if "{" not in text:  # most paths hold none: one scan instead of a regex
        return
    for match in REFERENCE.finditer(text):
        yield match.group(1).strip(), match.start()


def uses_variables(text: str | None) -> bool:
    """True when `text` refers to any run variable."""
    return bool(text) and any(True for _ in references(text or ""))


def render_text(text: str, values: dict[str, str]) -> str:
    """`text` with each known reference replaced (unknown ones are left: the
    validator refuses them before anything renders)."""
    if "{" not in text:
        return text
    return REFERENCE.sub(lambda m: values.get(m.group(1).strip(), m.group(0)), text)


def render_value(value: Any, values: dict[str, str]) -> Any:
    """Render every string inside `value` (a request body)."""
    if isinstance(value, str):
        return render_text(value, values) if "{" in value else value
    if isinstance(value, dict):
        return {k: render_value(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, values) for v in value]
    return value


def run_key(at: datetime) -> str:
    """The run key of a tick: its time in UTC, `20261203T010000Z`."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def inputs_run_key(digest: str) -> str:
    """The run key of an input-triggered run: `inputs-<16 hex of the snapshot>`."""
    return f"inputs-{digest[:16]}"


def key_time(key: str) -> datetime | None:
    """The time a tick's run key stands for (None for an inputs key)."""
    try:
        return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
