"""A cron expression in an IANA time zone, and its ticks.

The arithmetic is cronsim's, chosen over croniter after checking both on the
DST nights of Europe/Berlin (2026-03-29 and 2026-10-25): both run a 02:30
job once, at 03:00, on the spring-forward night, but croniter 7.0 runs it
twice on the fall-back night (02:30+02:00 and 02:30+01:00) while cronsim
runs it once, as Debian's cron does. Hourly and wildcard-hour expressions
run in both 02:00 hours on a fall-back night in either library, which is
cron's meaning: they name every hour of the wall clock.

Only the five standard fields are accepted (and the `@daily` family as
Kubernetes CronJob accepts them): cronsim also takes a leading seconds
field, which no other cron (and no Kubernetes CronJob) understands.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FIELDS = 5


class ScheduleError(ValueError):
    """An expression or zone batchspec cannot use; `hint` says what would work."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def expand(expression: str) -> str:
    """The five-field form of `expression` (macros expanded); ScheduleError
    when it is not five fields."""
    text = " ".join(expression.split())
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise ScheduleError(
                f"unknown cron macro {text!r}", hint="one of " + ", ".join(sorted(MACROS))
            )
        return MACROS[text.lower()]
    count = len(text.split())
    if count != FIELDS:
        raise ScheduleError(
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week),"
            f" {expression!r} has {count}",
            hint="for example `0 2 * * *` (02:00 every day) or `@daily`",
        )
    return text


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ScheduleError for a name the tz database lacks."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        import difflib
        import zoneinfo

        guess = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
        raise ScheduleError(
            f"unknown time zone {name!r}",
            hint=f"did you mean `{guess[0]}`?" if guess else "an IANA name such as Europe/Berlin",
        ) from None


def shown(moment: datetime, zone_name: str) -> str:
    """`moment` as `2026-12-03 02:00 Europe/Berlin`: how every reader shows a run."""
    return f"{moment.astimezone(zone(zone_name)):%Y-%m-%d %H:%M} {zone_name}"


@dataclass(frozen=True)
class Cron:
    """A checked expression in a zone; every time it hands out is aware UTC."""

    expression: str
    zone_name: str = "UTC"

    @classmethod
    def parse(cls, expression: str, zone_name: str = "UTC") -> Cron:
        """Check `expression` and `zone_name` (ScheduleError with a hint); the
        controller asks on every pass, so the answer is kept per expression."""
        return _parsed(expression, zone_name)

    @classmethod
    def _check(cls, expression: str, zone_name: str) -> Cron:
        from cronsim import CronSimError

        cron = cls(expand(expression), zone_name)
        zone(zone_name)
        try:
            cron._sim(datetime(2026, 1, 1, tzinfo=UTC))
        except CronSimError as exc:
            raise ScheduleError(
                f"invalid cron expression {expression!r}: {exc}",
                hint="five fields: minute (0-59) hour (0-23) day-of-month (1-31)"
                " month (1-12) day-of-week (0-6, Sunday 0)",
            ) from None
        return cron

    def _sim(self, start: datetime, reverse: bool = False) -> Iterator[datetime]:
        from cronsim import CronSim

        local = start.astimezone(zone(self.zone_name))
        return CronSim(self.expression, local, reverse=reverse)

    def after(self, moment: datetime) -> Iterator[datetime]:
        """Ticks strictly after `moment`, oldest first (UTC)."""
        for tick in self._sim(moment):
            out = tick.astimezone(UTC)
            if out > moment:
                yield out

    def before(self, moment: datetime) -> Iterator[datetime]:
        """Ticks at or before `moment`, newest first (UTC)."""
        # cronsim's reverse iteration starts at the minute itself.
        for tick in self._sim(moment + timedelta(microseconds=1), reverse=True):
            out = tick.astimezone(UTC)
            if out <= moment:
                yield out

    def next(self, moment: datetime, count: int = 1) -> list[datetime]:
        """The next `count` ticks after `moment`."""
        out: list[datetime] = []
        for tick in self.after(moment):
            out.append(tick)
            if len(out) >= count:
                break
        return out

    def between(self, start: datetime, end: datetime, limit: int) -> tuple[list[datetime], bool]:
        """Ticks in (start, end], oldest first, at most `limit` of them (the newest);
        True as second item when older ones were left out."""
        newest: list[datetime] = []
        for tick in self.before(end):
            if tick <= start:
                return newest[::-1], False
            if len(newest) >= limit:
                return newest[::-1], True
            newest.append(tick)
        return newest[::-1], False

    def explain(self) -> str:
        """`At 02:00 every day` (cronsim's words) with the zone."""
        from cronsim import CronSim

        words = CronSim(self.expression, datetime(2026, 1, 1, tzinfo=UTC)).explain()
        return f"{words} ({self.zone_name})"

    def local(self, moment: datetime) -> datetime:
        """`moment` on the schedule's wall clock."""
        return moment.astimezone(zone(self.zone_name))

    def shown(self, moment: datetime) -> str:
        """`2026-12-03 02:00 Europe/Berlin`."""
        return shown(moment, self.zone_name)


@lru_cache(maxsize=4096)
def _parsed(expression: str, zone_name: str) -> Cron:
    return Cron._check(expression, zone_name)
