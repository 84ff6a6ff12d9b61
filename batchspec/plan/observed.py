"""What the backends reported in one observation: plain data, no I/O.

Built by `batchspec.reconcile.observe` (one paged list call per backend,
selected by batchspec's managed-by label) and read by the planner, the
executor (adopt before create) and drift detection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from batchspec.model.jobs import LABEL_FINGERPRINT, RemoteJob


@dataclass
class Observation:
    """Jobs per backend, indexed by remote name and by fingerprint label."""

    jobs: dict[str, dict[str, RemoteJob]] = field(default_factory=dict)
    by_key: dict[str, dict[str, list[RemoteJob]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    permanent: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, listed: Mapping[str, Iterable[RemoteJob]]) -> Observation:
        """Index what each backend listed."""
        obs = cls()
        for backend, jobs in listed.items():
            obs.add(backend, jobs)
        return obs

    def add(self, backend: str, jobs: Iterable[RemoteJob]) -> None:
        """Record one backend's full listing."""
        by_name = self.jobs.setdefault(backend, {})
        by_key = self.by_key.setdefault(backend, {})
        for job in jobs:
            by_name[job.remote_name] = job
            key = job.labels.get(LABEL_FINGERPRINT) or job.fingerprint
            if key:
                by_key.setdefault(key, []).append(job)

    def fail(self, backend: str, message: str, *, permanent: bool = False) -> None:
        """Record that a backend could not be listed (`permanent`: retrying cannot help,
        e.g. its client library is not installed or access is denied)."""
        self.failed[backend] = message
        if permanent:
            self.permanent.add(backend)

    def observed(self, backend: str) -> bool:
        """True when `backend` was listed successfully."""
        return backend in self.jobs

    def find(self, backend: str, remote_name: str | None) -> RemoteJob | None:
        """The listed job with this remote name."""
        if remote_name is None:
            return None
        return self.jobs.get(backend, {}).get(remote_name)

    def with_key(self, backend: str, key_label: str) -> list[RemoteJob]:
        """Listed jobs carrying this fingerprint label value."""
        return list(self.by_key.get(backend, {}).get(key_label, ()))

    def all_jobs(self) -> list[RemoteJob]:
        """Every listed job."""
        return [job for jobs in self.jobs.values() for job in jobs.values()]
