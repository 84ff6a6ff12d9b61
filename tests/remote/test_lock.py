"""The remote lock: one holder, renewed under its generation, never taken over
silently, broken only on request."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from batchspec.errors import RemoteLockedError, StateConflictError
from batchspec.remote.gcs import GcsBackend
from batchspec.remote.location import RemoteLocation
from batchspec.remote.lock import RemoteLock
from batchspec.state.lease import this_process
from batchspec.testing.gcs import StorageDouble
from tests.remote.conftest import BUCKET, URL


@pytest.fixture
def backend(gcs_double: StorageDouble) -> GcsBackend:
    return GcsBackend(RemoteLocation.parse(URL))


def lock(backend: GcsBackend, purpose: str = "apply", **kw) -> RemoteLock:
    return RemoteLock(backend, purpose=purpose, holder=this_process(f"batchspec {purpose}"), **kw)


def test_second_writer_is_refused_naming_the_holder(backend: GcsBackend) -> None:
    first = lock(backend)
    first.acquire()
    try:
        with pytest.raises(RemoteLockedError) as caught:
            lock(backend, "drift").acquire()
        text = caught.value.message
        assert first.holder.owner in text and "apply" in text and first.id in text
        assert "--lock-timeout" in (caught.value.hint or "")
    finally:
        first.release()
    second = lock(backend)
    second.acquire()  # free again
    second.release()


def test_a_waiter_gets_the_lock_once_it_is_released(
    backend: GcsBackend, gcs_double: StorageDouble
) -> None:
    first = lock(backend)
    first.acquire()
    waiting = lock(backend, "reconcile")
    looked = threading.Event()

    def sleep(seconds: float) -> None:
        looked.set()  # the waiter found the lock held and waits: release it now
        threading.Event().wait(min(seconds, 0.05))

    waiting._sleep = sleep
    thread = threading.Thread(target=waiting.acquire, kwargs={"wait": 60, "poll": 0.05})
    thread.start()
    assert looked.wait(10)
    first.release()
    thread.join(30)
    assert waiting.held
    record = backend.read_lock()
    assert record is not None and record.record.purpose == "reconcile"
    waiting.release()
    assert backend.read_lock() is None


def test_renewal_moves_the_expiry_under_the_generation_it_holds(backend: GcsBackend) -> None:
    held = lock(backend, ttl=30)
    held.acquire()
    before = backend.read_lock()
    held.renew()
    after = backend.read_lock()
    assert before is not None and after is not None
    assert after.generation > before.generation
    assert after.record.expires_at >= before.record.expires_at
    assert after.record.acquired_at == before.record.acquired_at
    held.release()


def test_a_broken_lock_is_lost_not_stolen_back(backend: GcsBackend) -> None:
    victim = lock(backend)
    victim.acquire()
    thief = lock(backend, "state break-lock")
    seen = backend.read_lock()
    assert seen is not None
    thief.take_over(seen)
    with pytest.raises(RemoteLockedError, match="was broken"):
        victim.renew()
    current = backend.read_lock()
    assert current is not None and current.record.id == thief.id
    victim.lost = RemoteLockedError("lost")
    victim.release()  # must not delete the thief's lock
    assert backend.read_lock() is not None
    thief.release()


def test_take_over_fails_if_the_lock_changed_since_it_was_read(backend: GcsBackend) -> None:
    holder = lock(backend)
    holder.acquire()
    seen = backend.read_lock()
    assert seen is not None
    holder.renew()  # a new generation: what was read is out of date
    with pytest.raises(StateConflictError):
        lock(backend, "state break-lock").take_over(seen)
    holder.release()


def test_a_stale_lock_is_reported_never_taken(backend: GcsBackend) -> None:
    dead = lock(backend, ttl=30)
    dead.acquire()
    dead._stop.set()  # the holder stops renewing (killed)
    later = lock(backend, now=lambda: dead.now() + timedelta(minutes=10))
    with pytest.raises(RemoteLockedError) as caught:
        later.acquire()
    assert "stopped renewing" in caught.value.message
    assert "expired" in caught.value.message and dead.holder.owner in caught.value.message
    assert f"break-lock --state {URL} --id {dead.id}" in (caught.value.hint or "")
    current = backend.read_lock()
    assert current is not None and current.record.id == dead.id


def test_lock_object_names(gcs_double: StorageDouble, backend: GcsBackend) -> None:
    held = lock(backend)
    held.acquire()
    assert gcs_double.read(BUCKET, "prod/state.lock") is not None
    held.release()
    assert gcs_double.read(BUCKET, "prod/state.lock") is None


def test_a_create_that_landed_unanswered_is_our_lock(
    backend: GcsBackend, gcs_double: StorageDouble
) -> None:
    gcs_double.drop_answer_next(method="POST", name="prod/state.lock")
    held = lock(backend)
    held.acquire()  # the client retries, gets 412, and finds its own lock id
    current = backend.read_lock()
    assert held.held and current is not None and current.record.id == held.id
    held.release()
    assert backend.read_lock() is None
