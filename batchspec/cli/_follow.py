"""Following jobs to the end on a terminal (progress bars) or in a log (lines)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import console

if TYPE_CHECKING:
    from batchspec.reconcile.controller import PassResult
    from batchspec.reconcile.executor import Outcome
    from batchspec.state.records import JobRecord
    from batchspec.state.store import StateStore


def outcome_line(outcome: Outcome) -> str:
    """`  + create    name: submitted ...` for one executed action."""
    from batchspec.plan.actions import SYMBOLS

    action = outcome.action
    mark = SYMBOLS[action.kind] if outcome.ok else "!"
    verdict = outcome.message if outcome.ok else f"FAILED: {outcome.message}"
    return f"  {mark:>3} {action.kind.value:<8} {action.name}: {verdict}"


def print_outcome(outcome: Outcome) -> None:
    """Report one action as it completes."""
    if not outcome.skipped:
        rt.say(outcome_line(outcome))


def watched_records(store: StateStore, names: Iterable[str]) -> list[JobRecord]:
    """The latest job of each watched name (current, else the newest record)."""
    current = store.current_jobs()
    out = []
    for name in sorted(set(names)):
        record = current.get(name) or store.find_job(name)
        if record is not None:
            out.append(record)
    return out


class Follower:
    """Shows watched jobs after every controller pass: bars on a TTY, lines otherwise."""

    def __init__(
        self,
        store: StateStore,
        names: Callable[[], set[str]],
        *,
        bars: bool,
        say: Callable[[str], None] = rt.say,
    ) -> None:
        self.store = store
        self.say = say
        self.names = names
        self.bars = bars
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._seen: dict[str, str] = {}

    def __enter__(self) -> Follower:
        if self.bars:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.fields[name]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[state]}"),
                TimeElapsedColumn(),
                console=console(stderr=True),
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self.update()
            self._progress.stop()

    def on_pass(self, result: PassResult) -> None:
        """Controller callback."""
        self.update()

    def update(self) -> None:
        """Refresh bars, or print the jobs whose state changed."""
        for record in watched_records(self.store, self.names()):
            state = record.state.value if record.state else "SUBMITTING"
            if self._progress is None:
                line = f"{record.name}: {state} {_counts(record)}".rstrip()
                if self._seen.get(record.name) != line:
                    self._seen[record.name] = line
                    self.say(f"  {line}")
                continue
            total = record.total_count
            done = record.completed_count + record.failed_count
            if record.terminal and record.state and record.state.successful and total is None:
                total = done = max(done, 1)
            if record.name not in self._tasks:
                self._tasks[record.name] = self._progress.add_task(
                    record.name, total=total, name=record.name, state=state
                )
            self._progress.update(
                self._tasks[record.name], completed=done, total=total, state=state
            )


def _counts(record: JobRecord) -> str:
    if record.total_count is None and not record.completed_count:
        return ""
    total = "?" if record.total_count is None else str(record.total_count)
    failed = f", {record.failed_count} failed" if record.failed_count else ""
    return f"({record.completed_count}/{total}{failed})"


def summary(records: list[JobRecord]) -> str:
    """The end-of-run table: state, counts and where the results are."""
    rows = []
    for r in records:
        total = "?" if r.total_count is None else str(r.total_count)
        rows.append(
            [
                r.name,
                r.state.value if r.state else "SUBMITTING",
                f"{r.completed_count}/{total}",
                str(r.failed_count),
                r.output_location or "-",
            ]
        )
    return rt.table(rows, ["JOB", "STATE", "DONE", "FAILED", "OUTPUT"])
