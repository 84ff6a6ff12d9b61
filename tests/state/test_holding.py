"""`holding`: the one way apply, reconcile and the Pulumi provider hold a lease."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from batchspec.errors import LeaseHeldError
from batchspec.state import Lease, StateStore, this_process
from batchspec.state.lease import CONTROLLER_LEASE, holding
from batchspec.state.records import LeaseInfo


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "state.db"
    StateStore.open(p).close()
    return p


def test_held_for_the_block_and_released_however_it_ends(path: Path) -> None:
    with StateStore.open(path) as store:
        me = this_process("batchspec apply")
        with pytest.raises(RuntimeError), holding(store, me) as guard:
            assert Lease(store, me).current().owner_id == me.owner_id
            guard()  # still ours
            raise RuntimeError("the block failed")
        assert Lease(store, me).current() is None
        # another lease name is another lease: the writer lease is free meanwhile
        with holding(store, me, name=CONTROLLER_LEASE), holding(store, this_process("apply")):
            pass


def test_a_second_holder_is_refused_and_a_break_names_whom_it_displaced(path: Path) -> None:
    with StateStore.open(path) as store:
        other = replace(this_process("remote"), host="ci-runner-7", owner="ci@runner")
        Lease(store, other).acquire()
        with pytest.raises(LeaseHeldError, match="ci@runner"), holding(store, this_process("me")):
            pass
        displaced: list[LeaseInfo] = []
        with holding(store, this_process("me"), break_lease=True, on_break=displaced.append):
            pass
        assert [d.owner for d in displaced] == ["ci@runner"]


def test_the_guard_raises_once_the_lease_is_gone(path: Path) -> None:
    with StateStore.open(path) as store, holding(store, this_process("me"), ttl=0.3) as guard:
        store.connection.execute("DELETE FROM lease")
        with pytest.raises(LeaseHeldError, match="lost the writer lease"):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the keeper notices at its next beat
                guard()
                time.sleep(0.05)
