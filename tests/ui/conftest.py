"""Fixtures for the ui tests: state files with jobs, a running `batchspec ui`,
and a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from batchspec.testing.specs import local_job as spec_doc
from tests.conftest import REPO, SPECS

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY = "batchspec ui: serving"
LOCAL_SPECS = ("iris_local.yaml", "review_sentiment.yaml")


def batchspec(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the batchspec command in `cwd`; its stdout (fails the test on exit != 0)."""
    proc = subprocess.run(
        [sys.executable, "-m", "batchspec", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"batchspec {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def demo_project(root: Path) -> Path:
    """A project folder with the local demo specs and their data (linked); the
    model file is named by its absolute path (a `batchspec/` folder here would
    shadow the package for `python -m batchspec`)."""
    (root / "specs").mkdir(parents=True)
    models = (REPO / "batchspec" / "demo" / "data").as_posix()
    for name in LOCAL_SPECS:
        text = (SPECS / name).read_text().replace("../batchspec/demo/data", models)
        (root / "specs" / name).write_text(text)
    (root / "data").symlink_to(REPO / "data")
    return root


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's two local jobs applied and run to the end (state in .batchspec/)."""
    root = demo_project(tmp_path_factory.mktemp("demo"))
    batchspec(root, "apply", "specs", "--target", "local", "--wait", "--interval", "0.2")
    return root


def slow_spec(folder: Path, name: str = "slow_scores", lines: int = 300) -> Path:
    """A local spec whose job takes several seconds (tests.ui.models:slow_label)."""
    data = folder / "data" / name
    data.mkdir(parents=True, exist_ok=True)
    (data / "in-000.jsonl").write_text(
        "".join(json.dumps({"id": f"r{i:04d}", "n": i}) + "\n" for i in range(lines))
    )
    doc = spec_doc(name, batch_size=10)
    doc["metadata"]["labels"] = {"team": "ui-tests"}
    local = {"runner": "python", "callable": "tests.ui.models:slow_label"}
    doc["spec"].update(
        model={"local": local},
        input={"format": "JSONL", "paths": [f"../data/{name}/in-*"], "keyField": "id"},
        output={"path": f"../out/{name}", "overwrite": True},
    )
    del doc["spec"]["policy"]
    spec = folder / "specs" / f"{name}.yaml"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps(doc, indent=2))
    return spec


@dataclass
class Server:
    """A running `batchspec ui` and what it printed."""

    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Start `batchspec ui --port 0` in a folder; returns once its ready line is out."""
    started: list[Server] = []

    def start(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "batchspec", "ui", "--port", "0", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        seen: list[str] = []
        while True:
            line = lines.get(timeout=120)
            if line is None:
                raise AssertionError("batchspec ui exited before it was ready:\n" + "".join(seen))
            seen.append(line)
            if line.startswith(READY):
                break
        url = next(word for word in seen[-1].split() if word.startswith("http://"))
        server = Server(url, proc, seen)
        started.append(server)
        return server

    yield start
    for server in started:
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium under Playwright (skips only when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is not installed and could not be installed here (scripts/setup dev"
            " installs Debian's chromium with apt-get when run as root)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A browser page and everything it reported to its console."""

    page: Any
    errors: list[str]
    shots: Path

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def tab(browser: Any, tmp_path: Path) -> Iterator[Tab]:
    """A fresh browser context and page; console errors and page errors collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.set_default_timeout(60_000)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        yield Tab(page, errors, shots)
    finally:
        context.close()
