"""The controller lease: one actor per state file, stale leases, explicit breaks."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchspec.errors import LeaseHeldError
from batchspec.state import Lease, LeaseKeeper, StateStore, this_process
from batchspec.testing.process import wait_until


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "state.db"
    StateStore.open(p).close()
    return p


def test_second_holder_gets_a_clear_error_naming_the_owner(path: Path) -> None:
    with StateStore.open(path) as a, StateStore.open(path) as b:
        first = Lease(a, replace(this_process("batchspec reconcile"), owner="alice@box pid 1"))
        first.acquire()
        second = Lease(b, this_process("batchspec apply"))
        with pytest.raises(LeaseHeldError) as info:
            second.acquire()
        assert "alice@box pid 1" in info.value.message
        assert "batchspec reconcile" in info.value.message
        assert "--break-lease" in (info.value.hint or "")
        first.release()
        second.acquire()
        assert second.current().owner_id == second.holder.owner_id


def test_waiting_acquire_gets_the_lease_when_released(path: Path) -> None:
    with StateStore.open(path) as a, StateStore.open(path) as b:
        first = Lease(a, this_process("one"))
        first.acquire()
        waiting = threading.Event()

        def poll(seconds: float) -> None:
            waiting.set()  # the second holder saw the lease held and is waiting for it
            time.sleep(seconds)

        second = Lease(b, this_process("two"), sleep=poll)
        thread = threading.Thread(target=second.acquire, kwargs={"wait": 60, "poll": 0.05})
        thread.start()
        assert waiting.wait(30)
        assert not second.held
        first.release()
        thread.join(30)
        assert second.held and second.current().owner_id == second.holder.owner_id


def test_expired_lease_is_taken_over_and_logged(path: Path) -> None:
    clock = [datetime(2025, 1, 1, tzinfo=UTC)]
    with StateStore.open(path, now=lambda: clock[0]) as s:
        old = Lease(s, replace(this_process("old"), host="elsewhere"), ttl=10)
        old.acquire()
        clock[0] += timedelta(seconds=11)
        new = Lease(s, this_process("new"), ttl=10)
        new.acquire()
        assert new.current().owner_id == new.holder.owner_id
        entry = s.audit_entries()[-1]
        assert entry.kind == "lease-takeover" and "expired" in entry.message
        with pytest.raises(LeaseHeldError, match="lost the writer lease"):
            old.renew()


def test_lease_of_a_dead_process_on_this_host_is_taken_over(path: Path) -> None:
    with StateStore.open(path) as s:
        dead = Lease(s, replace(this_process("killed apply"), pid=2**22 + 12345))
        dead.acquire()
        alive = Lease(s, this_process("next apply"))
        alive.acquire()
        assert "no longer running" in s.audit_entries()[-1].message


def test_live_lease_on_another_host_needs_break_lease_which_is_logged(path: Path) -> None:
    with StateStore.open(path) as s:
        other = Lease(s, replace(this_process("remote"), host="ci-runner-7", owner="ci@runner"))
        other.acquire()
        me = Lease(s, this_process("me"))
        with pytest.raises(LeaseHeldError):
            me.acquire()
        me.acquire(break_lease=True)
        entry = s.audit_entries()[-1]
        assert entry.kind == "lease-break" and "ci@runner" in entry.message
        assert entry.actor == me.holder.owner


def test_keeper_heartbeats_and_notices_a_lost_lease(path: Path) -> None:
    with StateStore.open(path) as s:
        holder = this_process("controller")
        lease = Lease(s, holder, ttl=0.6)
        lease.acquire()
        first = lease.current().expires_at
        keeper = LeaseKeeper(s, holder, ttl=0.6)
        keeper.start()
        wait_until(lambda: lease.current().expires_at > first, what="a heartbeat")
        keeper.check()
        s.connection.execute("DELETE FROM lease")
        wait_until(lambda: keeper.lost is not None, what="the keeper to notice")
        with pytest.raises(LeaseHeldError, match="lost the writer lease"):
            keeper.check()
        keeper.stop()


def test_writer_and_controller_leases_are_independent(path: Path) -> None:
    from batchspec.state.lease import CONTROLLER_LEASE

    with StateStore.open(path) as s:
        controller = Lease(s, replace(this_process("reconcile"), host="ops"), name=CONTROLLER_LEASE)
        controller.acquire()
        writer = Lease(s, this_process("apply"))
        writer.acquire()  # a running controller does not block an apply between passes
        second = Lease(s, this_process("reconcile 2"), name=CONTROLLER_LEASE)
        with pytest.raises(LeaseHeldError, match="another controller is running"):
            second.acquire()
