"""Only SQLite ever opens a state file, through one connection per process.

Closing any descriptor of a file drops every POSIX lock the process holds on
it (sqlite.org/howtocorrupt.html, 2.2): that is how the controller once lost
its write-ahead log. Three guards keep it from coming back: the source has no
raw opens of state paths (scanned here), an audit hook refuses them at run
time while a connection is held, and a second open in the same process
shares the connection instead of making another.
"""

from __future__ import annotations

import ast
import io
import os
import sys
import threading
from pathlib import Path

import pytest

from batchspec.state import Lease, LeaseKeeper, StateStore, this_process
from batchspec.state.connection import UnsafeStateAccessError
from batchspec.testing.process import wait_until
from batchspec.testing.specs import compiled

PACKAGE = Path(__file__).resolve().parents[2] / "batchspec"
# Calls that open (or create and close) a file outside SQLite.
OPENERS = {"open", "read_bytes", "read_text", "write_bytes", "write_text", "touch", "truncate"}
OPENERS |= {"copy", "copy2", "copyfile", "copyfileobj", "fdopen", "mmap"}
# Where the state package may open something that is not the state file: the
# folder it fsyncs after linking a new state file into it.
ALLOWED = {("state/files.py", "os.open(folder, os.O_RDONLY)")}
STATE_WORDS = ("state", "store.path", ".db", "resolve_state_path", "STATE_ENV")


def _raw_opens(path: Path) -> list[tuple[int, str]]:
    source = path.read_text()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in OPENERS:
            continue
        if isinstance(func, ast.Attribute) and ast.unparse(func.value) in ("cls", "StateStore"):
            continue  # StateStore.open: SQLite's own open
        found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_source_never_opens_a_state_file_outside_sqlite() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for line, call in _raw_opens(path):
            if (relative, call) in ALLOWED:
                continue
            in_state = relative.startswith("state/")
            # Anywhere else, a raw open is suspect when it names the state file.
            if in_state or any(word.lower() in call.lower() for word in STATE_WORDS):
                offenders.append(f"batchspec/{relative}:{line}: {call}")
    assert not offenders, "raw opens of state files:\n" + "\n".join(offenders)


def test_the_scan_would_catch_the_original_bug(tmp_path: Path) -> None:
    bad = tmp_path / "store.py"
    bad.write_text(
        "def _check_header(path):\n"
        "    with path.open('rb') as handle:\n"
        "        return handle.read(16)\n"
    )
    assert [call for _, call in _raw_opens(bad)] == ["path.open('rb')"]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


def test_raw_opens_are_refused_while_a_connection_is_held(path: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.db"
    with StateStore.open(path) as store:
        link.symlink_to(path)
        store.log_audit("hello", "x", actor="test")
        attempts = [
            lambda: open(path, "rb"),  # noqa: SIM115
            lambda: io.open(f"{path}-wal", "rb"),  # noqa: UP020, SIM115
            lambda: os.open(f"{path}-shm", os.O_RDONLY),
            path.read_bytes,
            lambda: open(link, "rb"),  # noqa: SIM115
            lambda: Path(os.path.relpath(path)).read_bytes(),
        ]
        for attempt in attempts:
            with pytest.raises(UnsafeStateAccessError, match="outside SQLite"):
                attempt()
        other = tmp_path / "notes.txt"
        other.write_text("unrelated files open as usual")
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"  # no connection: allowed again


def test_one_connection_per_file_per_process(path: Path, tmp_path: Path) -> None:
    link = tmp_path / "same.db"
    link.symlink_to(path)
    with StateStore.open(path) as a, StateStore.open(link) as b:
        assert a.connection is b.connection
        b.close()
        assert a.current_jobs() == {}  # the first user's connection outlives the second
    with StateStore.open(path) as c:
        assert c.connection is not a.connection  # the last close really closed it


def test_the_lease_keeper_never_opens_a_connection(path: Path) -> None:
    connects: list[object] = []

    def count(event: str, args: tuple[object, ...]) -> None:
        if event == "sqlite3.connect" and watching.is_set():
            connects.append(args)

    watching = threading.Event()
    sys.addaudithook(count)
    with StateStore.open(path) as store:
        holder = this_process("controller")
        lease = Lease(store, holder, ttl=0.3)
        lease.acquire()
        first = lease.current().expires_at
        watching.set()
        keeper = LeaseKeeper(store, holder, ttl=0.3)
        keeper.start()
        try:
            wait_until(lambda: lease.current().expires_at > first, what="a heartbeat")
        finally:
            keeper.stop()
            watching.clear()
    assert connects == []


def test_heartbeats_and_transactions_share_the_connection_safely(path: Path) -> None:
    """The keeper thread's renewals never land inside the main thread's transactions."""
    with StateStore.open(path) as store:
        holder = this_process("controller")
        lease = Lease(store, holder, ttl=0.03)
        lease.acquire()
        keeper = LeaseKeeper(store, holder, ttl=0.03)
        keeper.start()
        try:
            before = store.serial
            for i in range(60):
                store.record_intent(
                    compiled(f"job_{i:02d}"), submit_key=f"k{i}", attempt=1, actor="t", reason="n"
                )
            keeper.check()
        finally:
            keeper.stop()
        assert len(store.current_jobs()) == 60
        assert len(store.transitions()) == 60
        assert store.serial >= before + 60
        assert lease.current() is not None and lease.current().owner_id == holder.owner_id
