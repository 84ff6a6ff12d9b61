"""`batchspec ui` and `batchspec report --html` in a real browser: Debian's
chromium driven by Playwright, over jobs the local engine really ran."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import Tab, batchspec, slow_spec
from tests.ui.test_app import HOSTILE, hostile_state

pytestmark = pytest.mark.slow

ROWS = "table[data-testid=jobs] tbody tr"


def table_rows(page: Any, table: str = "jobs") -> list[tuple[str, str]]:
    """(name, state) of every row of a jobs table (`jobs`, `status` or `runs`)."""
    cells = page.eval_on_selector_all(
        f"table[data-testid={table}] tbody tr",
        """rows => rows.map(r => [r.querySelector('td.name a').textContent,
                                 r.querySelector('[data-field=state]').textContent])""",
    )
    return [(name, state) for name, state in cells]


def api_rows(url: str) -> list[tuple[str, str]]:
    with urllib.request.urlopen(url + "api/jobs", timeout=60) as response:
        data = json.load(response)
    return [(r["name"], r["state"]) for r in data["rows"]]


def test_jobs_list_shows_the_demo_jobs_and_filters_them(demo: Path, serve: Any, tab: Tab) -> None:
    server = serve(demo)
    page = tab.page
    page.goto(server.url)
    assert table_rows(page) == [("iris_species", "SUCCEEDED"), ("review_sentiment", "SUCCEEDED")]
    progress = page.locator(f"{ROWS} [data-field=progress]").all_text_contents()
    assert progress == ["150/150 (100%)", "3000/3000 (100%)"]
    assert page.eval_on_selector_all(f"{ROWS} progress", "bars => bars.map(b => b.value)") == [
        100,
        100,
    ]
    tab.shot("jobs")
    page.goto(server.url + "?label=team=growth")
    assert table_rows(page) == [("review_sentiment", "SUCCEEDED")]
    page.goto(server.url)
    page.fill("input[name=q]", "iris")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/?*q=iris*")
    assert table_rows(page) == [("iris_species", "SUCCEEDED")]
    assert tab.errors == []


def test_job_page_draws_its_plots_from_the_results(demo: Path, serve: Any, tab: Tab) -> None:
    server = serve(demo)
    page = tab.page
    page.goto(server.url)
    page.click("text=iris_species")
    page.wait_for_selector("[data-figure=plot-classes] svg.main-svg")
    classes = page.eval_on_selector(
        "[data-figure=plot-classes]", "div => div.data[0].y.reduce((a, b) => a + b, 0)"
    )
    assert classes == 150  # every iris flower got a class
    bars = page.locator("[data-figure=plot-classes] .bars path")
    assert bars.count() == 3  # setosa, versicolor, virginica
    assert page.locator("[data-figure=plot-shards] .bars path").count() >= 1
    assert page.locator("[data-figure=plot-throughput] .scatterlayer .trace").count() == 1
    assert "iris_species" in page.locator("[data-testid=spec]").text_content()
    events = page.locator("[data-testid=timeline] li .event").all_text_contents()
    assert events[:2] == ["intent", "submitted"]
    tab.shot("job-iris")
    page.goto(server.url)
    page.click("text=review_sentiment")
    page.wait_for_selector("[data-figure=plot-scores] svg.main-svg")
    scores = page.eval_on_selector("[data-figure=plot-scores]", "div => div.data[0].x.length")
    assert scores == 3000
    assert tab.errors == []


def test_a_running_job_is_followed_to_100_percent_without_reload(
    tmp_path: Path, serve: Any, tab: Tab
) -> None:
    project = tmp_path / "live"
    slow_spec(project)
    server = serve(project)  # no state file yet: the page must pick it up when it appears
    page = tab.page
    page.goto(server.url)
    page.wait_for_selector("[data-testid=no-jobs]")
    page.evaluate("window.__sameDocument = 42")
    batchspec(project, "apply", "specs", "--target", "local", env={"SLOW_SECONDS": "0.2"})
    bar = f"{ROWS} progress"
    page.wait_for_function(
        f"""() => {{ const b = document.querySelector('{bar}');
                    return b && b.hasAttribute('value') && b.value > 0 && b.value < 100; }}"""
    )
    midway = tab.shot("running")
    page.wait_for_function(
        f"""() => {{ const b = document.querySelector('{bar}');
                    return b && b.hasAttribute('value') && b.value >= 100; }}""",
        timeout=180_000,
    )
    page.wait_for_function(
        f"() => document.querySelector('{ROWS} [data-field=state]').textContent === 'SUCCEEDED'"
    )
    assert page.evaluate("window.__sameDocument") == 42  # updated in place, never reloaded
    assert page.locator("[data-testid=no-jobs-hint]").count() == 0
    assert page.locator(f"{ROWS} [data-field=progress]").text_content() == "300/300 (100%)"
    tab.shot("finished")
    assert midway.exists()
    assert tab.errors == []


def test_static_report_opens_offline_and_shows_the_same_jobs(
    demo: Path, serve: Any, tab: Tab, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    batchspec(demo, "report", "specs", "--html", str(report))
    live = api_rows(serve(demo).url)
    page = tab.page
    requested: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()

    page.context.route("**/*", offline)
    page.goto(report.as_uri())
    assert table_rows(page, "status") == live
    assert "0 to create" in page.locator("[data-testid=plan-summary]").text_content()
    page.wait_for_selector("#job-1 [data-figure=plot-classes] svg.main-svg")
    bars = page.eval_on_selector(
        "#job-1 [data-figure=plot-classes]", "div => div.data[0].y.reduce((a, b) => a + b, 0)"
    )
    assert bars == 150
    assert page.locator("#job-2 [data-figure=plot-scores] .bars path").count() > 5
    tab.shot("report")
    assert requested == []  # nothing outside the file was even asked for
    assert tab.errors == []


def test_hostile_names_and_labels_render_as_text(tmp_path: Path, serve: Any, tab: Tab) -> None:
    state = hostile_state(tmp_path / "state.db")
    server = serve(tmp_path, "--state", str(state))
    page = tab.page
    page.goto(server.url)
    name = page.locator(f"{ROWS} td.name a").text_content()
    assert name == HOSTILE["name"]
    labels = page.locator(f"{ROWS} .label").all_text_contents()
    assert f"owner={HOSTILE['label']}" in labels
    page.click(f"{ROWS} td.name a")
    page.wait_for_selector("section.job")
    assert page.locator("section.job h1").text_content().startswith(HOSTILE["name"])
    assert HOSTILE["error"] in page.locator("[data-field=error]").text_content()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    report = tmp_path / "report.html"
    batchspec(tmp_path, "report", "--state", str(state), "--html", str(report))
    page.goto(report.as_uri())
    status = "table[data-testid=status] tbody tr td.name a"
    assert page.locator(status).text_content() == HOSTILE["name"]
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    tab.shot("hostile")
    assert tab.errors == []
