"""What each backend offers beyond the Protocol, asked the way callers ask:
`isinstance` on the capability protocol (never on a class)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchspec.backends.base import (
    Backend,
    Creates,
    Deletes,
    Finds,
    HasDetails,
    HasLogs,
    JobFolders,
    Located,
    Reruns,
    find_job,
    wait_for,
)
from batchspec.backends.genai import GenaiBackend
from batchspec.backends.local import LocalBackend
from batchspec.backends.mlengine import MLEngineBackend
from batchspec.backends.ray import RayBackend
from batchspec.backends.vertex import VertexBackend
from batchspec.errors import PermanentBackendError
from batchspec.model.enums import JobState
from batchspec.testing.backend import FakeBackend, ListingBackend
from batchspec.testing.specs import compiled

CAPABILITIES = (Located, Creates, Finds, Reruns, Deletes, HasLogs, HasDetails, JobFolders)


def offered(backend: object) -> set[str]:
    return {c.__name__ for c in CAPABILITIES if isinstance(backend, c)}


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: VertexBackend("p", "r"), {"Located", "Creates", "Deletes"}),
        (lambda tmp: GenaiBackend("p", "r"), {"Located", "Creates", "Deletes"}),
        (lambda tmp: MLEngineBackend("p"), {"Located", "Creates"}),  # no delete in `ml` v1
        (
            LocalBackend,
            {"Finds", "Reruns", "HasLogs", "HasDetails", "JobFolders"},
        ),
        (
            lambda tmp: RayBackend("http://127.0.0.1:1"),
            {"Finds", "Reruns", "HasLogs", "HasDetails"},
        ),
        (lambda tmp: FakeBackend(), set()),
        (lambda tmp: ListingBackend(), {"Creates"}),
    ],
    ids=["vertex", "genai", "mlengine", "local", "ray", "counting", "listing"],
)
def test_each_backend_offers_what_it_can(tmp_path: Path, make, expected: set[str]) -> None:
    backend = make(tmp_path)
    assert isinstance(backend, Backend)
    assert offered(backend) == expected


def test_locations_are_list_parents_and_prefixes_of_names() -> None:
    vertex, ml = VertexBackend("p", "us-central1"), MLEngineBackend("p")
    name = "projects/p/locations/europe-west4/batchPredictionJobs/7"
    assert vertex.location_of(name) == "projects/p/locations/europe-west4"
    assert vertex.location_of("projects/p/locations/europe-west4") == (
        "projects/p/locations/europe-west4"
    )
    assert vertex.location_of("7") is None  # a bare id says nothing
    assert vertex.default_location() == "projects/p/locations/us-central1"
    assert ml.location_of("projects/q/jobs/census_0123456789ab") == "projects/q"
    assert VertexBackend("p", None, env={}).default_location() is None


def test_wrong_target_is_refused_by_every_backend(tmp_path: Path) -> None:
    job = compiled("a")  # a local job
    for backend in (VertexBackend("p", "r"), GenaiBackend("p", "r"), MLEngineBackend("p")):
        with pytest.raises(PermanentBackendError, match="compiled for local"):
            backend.submit(job)


def test_find_and_wait_work_with_any_backend() -> None:
    backend = FakeBackend()  # no Finds: found by its fingerprint label
    job = compiled("a")
    assert find_job(backend, job) is None
    remote = backend.submit(job)
    found = find_job(backend, job)
    assert found is not None and found.remote_name == remote.remote_name
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the service moves on while we wait
        sleeps.append(seconds)
        backend.advance()

    done = wait_for(backend, remote.remote_name, poll=1.0, sleep=sleep)
    assert done.state is JobState.SUCCEEDED and sleeps == [1.0, 1.0]
