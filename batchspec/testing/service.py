"""What the backend double's fake service keeps: its jobs and its counters,
as plain data that `FileBackend` writes to a JSON file between calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from batchspec.model.enums import JobState
from batchspec.model.jobs import LABEL_FINGERPRINT, RemoteJob

LIFECYCLE = (JobState.QUEUED, JobState.RUNNING)


@dataclass
class FakeJob:
    """One job as the fake service keeps it."""

    remote_name: str
    job_name: str
    labels: dict[str, str]
    seq: int
    state: str = JobState.QUEUED.value
    steps: int = 0
    total: int = 100
    completed: int = 0
    failed: int = 0
    output_location: str | None = None
    error: str | None = None
    created_at: str = ""
    ended_at: str | None = None
    body_sha: str = ""

    def remote(self, backend: str) -> RemoteJob:
        """The job in batchspec's vocabulary."""
        return RemoteJob(
            backend=backend,
            remote_name=self.remote_name,
            job_name=self.job_name,
            fingerprint=self.labels.get(LABEL_FINGERPRINT),
            state=JobState(self.state),
            labels=dict(self.labels),
            create_time=datetime.fromisoformat(self.created_at) if self.created_at else None,
            end_time=datetime.fromisoformat(self.ended_at) if self.ended_at else None,
            completed_count=self.completed,
            failed_count=self.failed,
            total_count=self.total,
            output_location=self.output_location,
            error=self.error,
        )


@dataclass
class Service:
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    seq: int = 0
    creates: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": {k: asdict(v) for k, v in self.jobs.items()},
            "seq": self.seq,
            "creates": self.creates,
            "calls": self.calls,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Service:
        return cls(
            jobs={k: FakeJob(**v) for k, v in data.get("jobs", {}).items()},
            seq=int(data.get("seq", 0)),
            creates=int(data.get("creates", 0)),
            calls=dict(data.get("calls", {})),
        )
