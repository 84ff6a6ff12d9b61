"""The plots of a job page, as Plotly figure specs (plain JSON).

Figures are built as data, not with Plotly's Python objects: the browser
draws them with the plotly.js that ships in Plotly's wheel, so the server
needs neither Plotly's Python graph objects (slow to import, validating
every attribute) nor a network. Each figure exists only when there is
something to draw: a job that has not produced outputs has no class plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from batchspec.state.records import JobRecord
from batchspec.ui.live import RunLog
from batchspec.ui.rows import iso, tone
from batchspec.ui.samples import ResultSample

CLASSES_SHOWN = 30
_COLOURS = {
    "ok": "#2e7d32",
    "warn": "#ef6c00",
    "bad": "#c62828",
    "off": "#757575",
    "run": "#1565c0",
    "wait": "#9e9e9e",
}


@dataclass(frozen=True)
class Figure:
    """One plot: an id for its element, a title, a note under it, the figure."""

    id: str
    title: str
    data: list[dict[str, Any]]
    layout: dict[str, Any]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """What the page's script hands to `Plotly.react`: every field, under
        its own name (a copy, so the page's data cannot change the figure)."""
        return asdict(self)


def _layout(x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    return {
        "height": 280,
        "margin": {"l": 56, "r": 16, "t": 12, "b": 56},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", "automargin": True},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "showlegend": False,
        **extra,
    }


def _sampled(sample: ResultSample) -> str:
    if sample.sampled:
        return f"a sample of {sample.read} predictions from {len(sample.files)} file(s)"
    return f"all {sample.read} predictions"


def class_figure(sample: ResultSample) -> Figure | None:
    """Predictions per class (the most frequent classes, most frequent first)."""
    if not sample.classes:
        return None
    top = sample.classes.most_common(CLASSES_SHOWN)
    more = len(sample.classes) - len(top)
    note = _sampled(sample) + (f"; {more} rarer classes not shown" if more > 0 else "")
    return Figure(
        "plot-classes",
        "Predictions per class",
        [{"type": "bar", "x": [c for c, _ in top], "y": [n for _, n in top], "marker": {}}],
        _layout("class", "predictions"),
        note,
    )


def score_figure(sample: ResultSample) -> Figure | None:
    """A histogram of the predictions' scores."""
    if not sample.scores:
        return None
    return Figure(
        "plot-scores",
        "Scores",
        [{"type": "histogram", "x": sample.scores, "nbinsx": 30}],
        _layout("score", "predictions", bargap=0.05),
        _sampled(sample),
    )


def shard_figure(log: RunLog | None, sample: ResultSample | None) -> Figure | None:
    """Predicted and failed instances per shard (local runs: every shard);
    otherwise errors per error file among the files read."""
    if log is not None and log.shards:
        index = [str(s.index) for s in log.shards]
        labels = [s.label for s in log.shards]
        failed = [s.failed for s in log.shards]
        completed = [s.completed for s in log.shards]
        note = f"{sum(failed)} failed of {sum(failed) + sum(completed)} in {len(index)} shard(s)"
        hover = "shard %{customdata}<br>%{y} %{fullData.name}<extra></extra>"
        data = [
            {
                "type": "bar",
                "name": "predicted",
                "x": index,
                "y": completed,
                "customdata": labels,
                "hovertemplate": hover,
                "marker": {"color": _COLOURS["ok"]},
            },
            {
                "type": "bar",
                "name": "failed",
                "x": index,
                "y": failed,
                "customdata": labels,
                "hovertemplate": hover,
                "marker": {"color": _COLOURS["bad"]},
            },
        ]
        layout = _layout("shard", "instances", barmode="stack", showlegend=True)
        layout["legend"] = {"orientation": "h", "y": 1.12}
        return Figure("plot-shards", "Errors per shard", data, layout, note)
    if sample is not None and sample.errors_per_file:
        names = sorted(sample.errors_per_file)
        data = [
            {
                "type": "bar",
                "x": names,
                "y": [sample.errors_per_file[n] for n in names],
                "marker": {"color": _COLOURS["bad"]},
            }
        ]
        note = "errors counted in the files read" + (" (sampled)" if sample.sampled else "")
        return Figure("plot-shards", "Errors per file", data, _layout("file", "failed"), note)
    return None


def throughput_figure(log: RunLog | None) -> Figure | None:
    """Instances done over the run's time (one point per published shard)."""
    if log is None or not log.progress:
        return None
    start = log.started if log.started is not None else log.progress[0][0]
    start = min(start, log.progress[0][0])
    seconds = [round((at - start).total_seconds(), 3) for at, _ in log.progress]
    done = [n for _, n in log.progress]
    times = [iso(at) for at, _ in log.progress]
    if seconds[0] > 0:
        seconds.insert(0, 0.0)
        done.insert(0, 0)
        times.insert(0, iso(start))
    note = ""
    if seconds[-1] > 0:
        note = f"{done[-1] / seconds[-1]:,.0f} instances/s over the run"
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": seconds,
            "y": done,
            "customdata": times,
            "hovertemplate": "%{y} done after %{x}s (%{customdata})<extra></extra>",
            "line": {"color": _COLOURS["run"]},
        }
    ]
    return Figure(
        "plot-throughput",
        "Throughput of this run",
        data,
        _layout("seconds since the run started", "instances done"),
        note,
    )


def durations_figure(runs: Sequence[JobRecord]) -> Figure | None:
    """How long each past run of this spec name took, oldest first."""
    timed = [r for r in sorted(runs, key=lambda r: r.id) if r.started_at and r.ended_at]
    if not timed:
        return None
    data = [
        {
            "type": "bar",
            "x": [f"#{r.id} {r.short_fingerprint[:7]}" for r in timed],
            "y": [round((r.ended_at - r.started_at).total_seconds(), 3) for r in timed],  # type: ignore[operator]
            "text": [r.state.value if r.state else "" for r in timed],
            "marker": {"color": [_COLOURS[tone(r.state)] for r in timed]},
            "hovertemplate": "%{x}: %{y}s (%{text})<extra></extra>",
        }
    ]
    return Figure(
        "plot-durations",
        "Durations of past runs",
        data,
        _layout("run (job id, revision)", "seconds"),
        f"{len(timed)} finished run(s) of this spec name",
    )


def job_figures(
    sample: ResultSample | None, log: RunLog | None, runs: Sequence[JobRecord]
) -> list[Figure]:
    """Every plot that has data, in page order."""
    found = [
        class_figure(sample) if sample else None,
        score_figure(sample) if sample else None,
        shard_figure(log, sample),
        throughput_figure(log),
        durations_figure(runs),
    ]
    return [f for f in found if f is not None]
