"""What the backends reported in one observation: plain data, no I/O.

Built by `batchspec.reconcile.observe` (one paged list per backend and
location, selected by batchspec's managed-by label) and read by the planner,
the executor (adopt before create) and drift detection.

A backend whose jobs live in locations (`backends.base.Located`: a project
and region on the Google services) is listed once per location that a spec
or a recorded job names. A location is a prefix of the remote names in it
(`projects/P/locations/R` of `projects/P/locations/R/batchPredictionJobs/1`),
so whether the observation can speak for a job (`covers`) is told from its
name alone; a job in a location that was not listed is planned with what
state recorded, never taken for deleted. The empty location stands for a
backend listed as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from batchspec.model.jobs import LABEL_FINGERPRINT, RemoteJob

WHOLE = ""
"""The location of a backend that is listed as a whole (the local engine, Ray)."""


@dataclass
class Observation:
    """Jobs per backend, indexed by remote name and by fingerprint label, and
    which locations of each backend were listed (and when) or failed."""

    jobs: dict[str, dict[str, RemoteJob]] = field(default_factory=dict)
    by_key: dict[str, dict[str, list[RemoteJob]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    permanent: set[str] = field(default_factory=set)
    listed: dict[str, dict[str, float | None]] = field(default_factory=dict)
    failed_at: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, listed: Mapping[str, Iterable[RemoteJob]]) -> Observation:
        """Index what each backend listed (each as a whole)."""
        obs = cls()
        for backend, jobs in listed.items():
            obs.add(backend, jobs)
        return obs

    def add(
        self,
        backend: str,
        jobs: Iterable[RemoteJob],
        location: str = WHOLE,
        at: float | None = None,
    ) -> None:
        """Record one full listing of `backend` in `location`, made at monotonic
        time `at` (None: of no known age, never listed again); it replaces what
        an earlier listing of that location said."""
        by_name = self.jobs.setdefault(backend, {})
        if location in self.listed.get(backend, {}):
            for name in [n for n in by_name if within(n, location)]:
                del by_name[name]
        for job in jobs:
            by_name[job.remote_name] = job
        self.listed.setdefault(backend, {})[location] = at
        self.failed_at.get(backend, {}).pop(location, None)
        self._index(backend)

    def _index(self, backend: str) -> None:
        by_key: dict[str, list[RemoteJob]] = {}
        for job in self.jobs[backend].values():
            key = job.labels.get(LABEL_FINGERPRINT) or job.fingerprint
            if key:
                by_key.setdefault(key, []).append(job)
        self.by_key[backend] = by_key

    def fail(
        self, backend: str, message: str, *, permanent: bool = False, location: str = WHOLE
    ) -> None:
        """Record that a backend (or one location of it) could not be listed
        (`permanent`: retrying cannot help, e.g. its client library is not
        installed or access is denied). `failed` keeps one line per backend."""
        self.failed_at.setdefault(backend, {})[location] = message
        where = f"{location}: " if location else ""
        previous = self.failed.get(backend)
        self.failed[backend] = f"{previous}; {where}{message}" if previous else where + message
        if permanent:
            self.permanent.add(backend)

    def observed(self, backend: str) -> bool:
        """True when `backend` was listed successfully (in at least one location)."""
        return backend in self.jobs

    def covers(self, backend: str, where: str | None) -> bool:
        """True when a listing of `backend` speaks for the job at `where` (its
        remote name, or a compiled job's parent): the backend was listed as a
        whole, or in the location `where` lies in."""
        return self.location_of(backend, where) is not None

    def location_of(self, backend: str, where: str | None) -> str | None:
        """The listed location of `backend` that `where` lies in, if any."""
        listed = self.listed.get(backend, {})
        if WHOLE in listed:
            return WHOLE
        if where is None:
            return None
        return next((loc for loc in listed if within(where, loc)), None)

    def unlisted(self, backend: str, where: str | None = None) -> str | None:
        """Why jobs of `backend` at `where` (a remote name, a parent or a
        location) cannot be looked up now: the failure of its location or of
        the whole backend; None when nothing stands in the way. Without
        `where`, any failure of the backend counts."""
        failures = self.failed_at.get(backend, {})
        if where is None or not failures:
            return self.failed.get(backend)
        for location, message in failures.items():
            if where == location or within(where, location):
                return message
        return None

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


def within(name: str, location: str) -> bool:
    """True when `name` is `location` or lies in it (every name lies in the whole backend)."""
    return location in (WHOLE, name) or name.startswith(location + "/")
