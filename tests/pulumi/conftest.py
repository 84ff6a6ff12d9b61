"""Fixtures for the Pulumi tests: a project folder with small local specs,
the provider's inputs for them, and a way to wait for local jobs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batchspec.backends.local import LocalBackend
from batchspec.model.enums import JobState
from batchspec.model.jobs import RemoteJob
from batchspec.pulumi.layout import job_layout
from batchspec.pulumi.loading import load_jobs
from batchspec.pulumi.props import JobProps, props_for
from batchspec.pulumi.settings import StackSettings, settings_from
from batchspec.testing.specs import local_job

ECHO = "tests.engine.helpers.models:echo"
SLOW = "tests.engine.helpers.models:slow"
REPO = Path(__file__).resolve().parents[2]


def local_spec(name: str = "scores", *, model: str = ECHO, **changes: Any) -> dict[str, Any]:
    """A small local spec document reading in/*.jsonl (the shared `local_job`)."""
    return local_job(name, model=model, paths=["in/part-*"], batch_size=8, **changes)


@dataclass
class Project:
    """A Pulumi project folder (`stack/`) next to a spec folder (`specs/`)."""

    root: Path

    @property
    def stack_dir(self) -> Path:
        return self.root / "stack"

    @property
    def specs(self) -> Path:
        return self.root / "specs"

    @property
    def state(self) -> Path:
        return self.root / ".batchspec" / "state.db"

    @property
    def home(self) -> Path:
        return self.root / ".batchspec"

    @property
    def backend(self) -> LocalBackend:
        return LocalBackend(self.home)

    def inputs(self, rows: int = 6, files: int = 1) -> None:
        for f in range(files):
            path = self.specs / "in" / f"part-{f:02d}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                "".join(json.dumps({"id": f"{f}-{i}", "n": i}) + "\n" for i in range(rows))
            )

    def write(self, doc: dict[str, Any], file: str = "job.yaml") -> Path:
        path = self.specs / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1))
        return path

    def settings(self, **config: Any) -> StackSettings:
        raw = {
            "batchspec:specs": json.dumps(["../specs"]),
            "batchspec:state": "../.batchspec/state.db",
            "batchspec:home": "../.batchspec",
            "batchspec:lockTimeout": "20",
            **{
                f"batchspec:{k}": v if isinstance(v, str) else json.dumps(v)
                for k, v in config.items()
            },
        }
        self.stack_dir.mkdir(parents=True, exist_ok=True)
        return settings_from(raw, stack="test", project_dir=self.stack_dir)

    def props(self, name: str = "scores", **config: Any) -> JobProps:
        """The inputs the stack program gives the job resource of spec `name`."""
        settings = self.settings(**config)
        job = next(j for j in load_jobs(settings).jobs if j.name == name)
        return props_for(job_layout(job, settings), settings)

    def job_dirs(self) -> list[str]:
        jobs = self.home / "jobs"
        return (
            sorted(p.name for p in jobs.iterdir() if not p.name.startswith("."))
            if jobs.is_dir()
            else []
        )


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.inputs()
    return p


def wait_until(
    check: Callable[[], RemoteJob], done: Callable[[RemoteJob], bool], timeout: float = 30.0
) -> RemoteJob:
    """Poll `check()` until `done(job)`."""
    deadline = time.monotonic() + timeout
    while True:
        job = check()
        if done(job):
            return job
        assert time.monotonic() < deadline, f"timed out; last state {job.state}"
        time.sleep(0.05)


def ended(job: RemoteJob) -> bool:
    return job.state.terminal


def running(job: RemoteJob) -> bool:
    return job.state is JobState.RUNNING
