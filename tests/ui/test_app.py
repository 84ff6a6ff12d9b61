"""The app without a browser: the paged query, URL parsing, the security guard,
escaping, plots from output shapes, and the report's pinned inline scripts."""

from __future__ import annotations

import base64
import hashlib
import html as html_text
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from batchspec.compile import compile_spec
from batchspec.model.enums import JobState
from batchspec.model.spec import BatchPredictionJobSpec
from batchspec.state import StateStore
from batchspec.state.pages import JobFilter, page_jobs
from batchspec.testing.specs import compiled
from batchspec.testing.specs import local_job as spec_doc
from batchspec.testing.state import record_job
from batchspec.ui.app import create_app
from batchspec.ui.listing import QueryError, parse_query
from batchspec.ui.samples import classify
from batchspec.ui.source import StateReader

HOSTILE = {
    "name": "x<script>window.__pwned=1</script>",
    "label": '<img src=x onerror="window.__pwned=2">',
    "error": "<b>bold</b><script>window.__pwned=3</script>",
}
LOCAL = "http://127.0.0.1"


def hostile_state(path: Path) -> Path:
    """A state file whose one job has a script for a name, label and error."""
    doc = spec_doc("placeholder")
    doc["metadata"]["name"] = HOSTILE["name"]
    doc["metadata"]["labels"] = {"owner": HOSTILE["label"], "team": "</script><script>x()"}
    doc["metadata"]["description"] = HOSTILE["error"]
    spec = BatchPredictionJobSpec.model_validate_json(json.dumps(doc))
    with StateStore.open(path) as store:
        record_job(
            store,
            compile_spec(spec),
            JobState.FAILED,
            remote_name="elsewhere/x",
            error=HOSTILE["error"],
            total_count=10,
            failed_count=10,
        )
    return path


def seeded(path: Path) -> Path:
    """24 jobs: 4 targets' worth of names, states in turn, three label values."""
    states = [JobState.SUCCEEDED, JobState.RUNNING, JobState.FAILED, None]
    with StateStore.open(path) as store:
        for i in range(24):
            doc = spec_doc(f"job_{i:02d}")
            doc["metadata"]["labels"] = {"team": ["red", "blue", "green"][i % 3]}
            if i == 5:
                doc["metadata"]["name"] = "odd_100%_name"
            spec = BatchPredictionJobSpec.model_validate_json(json.dumps(doc))
            observed = {"total_count": 10, "completed_count": i % 10} if states[i % 4] else {}
            record_job(store, compile_spec(spec), states[i % 4], **observed)
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return seeded(tmp_path / "state.db")


@pytest.fixture
def client(state: Path) -> Iterator[TestClient]:
    with TestClient(create_app(StateReader(state)), base_url=LOCAL) as c:
        yield c


def test_pages_filter_count_and_page_in_sql(state: Path) -> None:
    with StateStore.open(state, create=False) as store:
        page = page_jobs(store, JobFilter(), offset=0, limit=10)
        assert page.total == 24 and len(page.records) == 10
        assert [r.name for r in page.records][:2] == ["job_00", "job_01"]
        last = page_jobs(store, JobFilter(), offset=20, limit=10)
        assert len(last.records) == 4
        running = page_jobs(store, JobFilter(states=("RUNNING", "SUBMITTING")), limit=50)
        assert running.total == 12
        assert {r.state for r in running.records} == {JobState.RUNNING, None}
        blue = page_jobs(store, JobFilter(labels=(("team", "blue"),)), limit=50)
        assert blue.total == 8
        assert all(page.labels is not None for page in [blue])
        assert {blue.labels[r.fingerprint]["team"] for r in blue.records} == {"blue"}
        assert page_jobs(store, JobFilter(labels=(("team", None),))).total == 24
        assert page_jobs(store, JobFilter(labels=(("nope", None),))).total == 0
        # LIKE wildcards in a search are literal characters
        assert [r.name for r in page_jobs(store, JobFilter(search="100%")).records] == [
            "odd_100%_name"
        ]
        assert page_jobs(store, JobFilter(search="_0")).total == 9  # job_0x, literally
        newest = page_jobs(store, JobFilter(sort="newest"), limit=1).records[0]
        assert newest.name == "job_23"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("label=team=blue", 8), ("label=team", 24), ("label=team=none", 0), ("label=x", 0)],
)
def test_label_filters_resolved_by_the_index_match_sql(
    client: TestClient, state: Path, query: str, expected: int
) -> None:
    data = client.get(f"/api/jobs?{query}&size=100").json()
    key, _, value = query.removeprefix("label=").partition("=")
    with StateStore.open(state, create=False) as store:
        direct = page_jobs(store, JobFilter(labels=((key, value or None),)), limit=100)
    assert data["total"] == expected == direct.total
    assert [r["id"] for r in data["rows"]] == [r.id for r in direct.records]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"state": ["DONE"]}, "unknown state 'DONE'"),
        ({"page": ["two"]}, "`page` must be a whole number"),
        ({"page": ["0"]}, "`page` must be at least 1"),
        ({"size": ["7"]}, "size must be one of"),
        ({"sort": ["a", "b"]}, "given 2 times"),
        ({"label": ["=x"]}, "needs a key"),
        ({"colour": ["red"]}, "unknown parameter 'colour'"),
    ],
)
def test_bad_list_queries_are_clear_errors(query: dict[str, list[str]], message: str) -> None:
    with pytest.raises(QueryError, match=re.escape(message)):
        parse_query(query)


def test_list_pages_keep_their_filters(client: TestClient) -> None:
    html = client.get("/?state=RUNNING&size=25").text
    assert "1\u20136 of 6" in html
    data = client.get("/api/jobs?page=2&size=25").json()
    assert data["page"] == 1 and data["pages"] == 1  # past the end: the last page
    q = parse_query({"state": ["RUNNING"], "label": ["team=red"], "page": ["3"]})
    assert q.url("/", page=4) == "/?state=RUNNING&label=team%3Dred&page=4"
    response = client.get("/?state=NOPE")
    assert response.status_code == 400 and "unknown state" in response.text
    assert client.get("/api/jobs?page=x").json()["error"].startswith("`page`")


def test_every_response_is_guarded(client: TestClient) -> None:
    for path in ("/", "/api/jobs", "/jobs/1", "/static/app.js", "/nowhere"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert client.post("/").status_code == 405
    assert client.delete("/jobs/1").status_code == 405
    # DNS rebinding: a page elsewhere reaching 127.0.0.1 under its own name
    assert client.get("/", headers={"host": "evil.example:8080"}).status_code == 421
    assert client.get("/", headers={"host": "localhost:8080"}).status_code == 200


def test_a_token_is_required_when_one_is_set(state: Path) -> None:
    app = create_app(StateReader(state), token="s3cret-token-0123456789", loopback_only=False)
    with TestClient(app, base_url="http://10.1.2.3:8080") as c:
        assert c.get("/api/jobs").status_code == 401
        assert c.get("/api/jobs?token=wrong-token-012345678").status_code == 401
        bearer = {"authorization": "Bearer s3cret-token-0123456789"}
        assert c.get("/api/jobs", headers=bearer).status_code == 200
        response = c.get("/?state=RUNNING&token=s3cret-token-0123456789", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/?state=RUNNING"
        assert "HttpOnly" in response.headers["set-cookie"]
        assert "SameSite=Strict" in response.headers["set-cookie"]
        assert c.get("/api/jobs").status_code == 200  # the cookie now carries it


def test_job_pages_and_missing_jobs(client: TestClient) -> None:
    page = client.get("/jobs/2")
    assert page.status_code == 200 and "job_01" in page.text
    assert client.get("/api/jobs/2").json()["row"]["state"] == "RUNNING"
    assert client.get("/jobs/999").status_code == 404
    assert client.get("/api/jobs/999").json() == {"error": "no job #999 in this state"}
    plots = client.get("/api/jobs/2/plots").json()
    assert plots == {"figures": [], "files": [], "problem": None}  # no outputs here yet
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/../state.db").status_code == 404


def test_hostile_text_is_escaped_in_every_page(tmp_path: Path) -> None:
    state = hostile_state(tmp_path / "state.db")
    with TestClient(create_app(StateReader(state)), base_url=LOCAL) as c:
        for path in ("/", "/jobs/1"):
            html = c.get(path).text
            assert "<script>window.__pwned" not in html
            assert "<img src=x" not in html
            assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
            assert len(re.findall(r"<script[ >]", html)) <= 3  # ours: plotly, app, data
        data = c.get("/api/jobs").json()["rows"][0]
        assert data["name"] == HOSTILE["name"]  # JSON keeps the text; the page sets textContent


def test_secrets_in_recorded_bodies_are_not_rendered(tmp_path: Path) -> None:
    doc = spec_doc("with_env")
    doc["spec"]["model"]["local"] = {
        "runner": "command",
        "command": ["score", "--fast"],
        "env": {"API_KEY": "sk-live-123", "MODE": "fast"},
    }
    spec = BatchPredictionJobSpec.model_validate_json(json.dumps(doc))
    with StateStore.open(tmp_path / "state.db") as store:
        record_job(store, compile_spec(spec), JobState.SUCCEEDED)
    with TestClient(create_app(StateReader(tmp_path / "state.db")), base_url=LOCAL) as c:
        html = c.get("/jobs/1").text
    assert "sk-live-123" not in html
    assert "&lt;redacted&gt;" in html and "fast" in html


def test_a_state_file_that_appears_later_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "later.db"
    with TestClient(create_app(StateReader(path)), base_url=LOCAL) as c:
        assert c.get("/api/jobs").json()["total"] == 0
        assert not path.exists()  # reading never creates the file
        with StateStore.open(path) as store:
            record_job(store, compiled("late_job"), JobState.QUEUED)
        assert [r["name"] for r in c.get("/api/jobs").json()["rows"]] == ["late_job"]


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        ("setosa", ("setosa", None)),
        (True, ("true", None)),
        (3, ("3", None)),
        (0.25, (None, 0.25)),
        ([0.1, 0.7, 0.2], ("1", 0.7)),
        ([0.4], (None, 0.4)),
        ({"label": "positive", "score": 0.8}, ("positive", 0.8)),
        ({"displayNames": ["a", "b"], "confidences": [0.2, 0.8]}, ("b", 0.8)),
        ({"value": 2.5}, (None, 2.5)),
        ({"output": "cat"}, ("cat", None)),
        ({"a": [1, "x"], "b": None}, (None, None)),
        (None, (None, None)),
    ],
)
def test_prediction_shapes(prediction: Any, expected: tuple[Any, Any]) -> None:
    assert classify(prediction) == expected


def test_the_report_pins_each_inline_script_by_hash(tmp_path: Path) -> None:
    from batchspec.ui.report import build_report, render_report

    state = seeded(tmp_path / "state.db")
    with StateStore.open(state, create=False) as store:
        html = render_report(build_report(store, [], jobs=2))
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    policy = html_text.unescape(csp.group(1))
    pinned = set(re.findall(r"'(sha256-[^']+)'", policy))
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 2  # plotly.js and ours; data blocks are not scripts
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"sha256-{digest}" in pinned
    assert "default-src 'none'" in policy and "http" not in policy


def test_job_page_shows_the_diff_to_the_previous_revision(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with StateStore.open(path) as store:
        first = record_job(store, compiled("churn", batch_size=64), JobState.SUCCEEDED)
        record_job(store, compiled("churn", batch_size=32), JobState.RUNNING, supersede=first.id)
    with TestClient(create_app(StateReader(path)), base_url=LOCAL) as c:
        html = c.get("/jobs/2").text
        assert "Previous revision" in html and 'href="/jobs/1"' in html
        removed = re.findall(r'<span class="del">(.*?)</span>', html)
        added = re.findall(r'<span class="add">(.*?)</span>', html)
        assert any("64" in line for line in removed) and any("32" in line for line in added)
        assert "This is the first revision of churn" in c.get("/jobs/1").text


def test_first_errors_and_plots_come_from_the_output_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    results = [
        {"key": f"k{i}", "prediction": {"label": "ab"[i % 2], "score": i / 10}} for i in range(9)
    ]
    (out / "prediction.results-00000-of-00001").write_text(
        "".join(json.dumps(r) + "\n" for r in results)
    )
    error = {
        "instance": {"id": "k9", "text": 17, "api_key": "sk-secret"},
        "error": {"status": "INVALID_ARGUMENT", "message": "in/x.jsonl:10: text is not a string"},
    }
    (out / "prediction.errors_stats-00000-of-00001").write_text(json.dumps(error) + "\n")
    path = tmp_path / "state.db"
    with StateStore.open(path) as store:
        record_job(
            store,
            compiled("scored"),
            JobState.SUCCEEDED,
            remote_name="gone/scored",
            output_location=str(out),
            completed_count=9,
            failed_count=1,
            total_count=10,
        )
    with TestClient(create_app(StateReader(path)), base_url=LOCAL) as c:
        html = c.get("/jobs/1").text
        assert "in/x.jsonl:10: text is not a string" in html
        assert "INVALID_ARGUMENT" in html and "sk-secret" not in html
        plots = {f["id"]: f for f in c.get("/api/jobs/1/plots").json()["figures"]}
    assert plots["plot-classes"]["data"][0]["x"] == ["a", "b"]
    assert plots["plot-classes"]["data"][0]["y"] == [5, 4]
    assert len(plots["plot-scores"]["data"][0]["x"]) == 9
    assert plots["plot-shards"]["data"][0]["y"] == [1]  # errors per error file read


def test_big_outputs_are_sampled_from_every_file(tmp_path: Path) -> None:
    from batchspec.ui.samples import list_outputs, sample_results

    for shard in range(4):
        lines = [json.dumps({"key": f"{shard}-{i}", "prediction": f"c{shard}"}) for i in range(50)]
        (tmp_path / f"prediction.results-{shard:05d}-of-00004").write_text("\n".join(lines))
    sample = sample_results(list_outputs([str(tmp_path)]), limit=40)
    assert sample.sampled and sample.read == 40
    assert dict(sample.classes) == {"c0": 10, "c1": 10, "c2": 10, "c3": 10}
