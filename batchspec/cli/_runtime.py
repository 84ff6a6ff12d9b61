"""Shared plumbing of the controller commands: state, lease, signals, output.

Kept free of heavy imports; each command imports the stage it needs inside
`run`, so `batchspec --help` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchspec.backends.registry import BackendRegistry
    from batchspec.remote.session import RemoteSession
    from batchspec.state.lease import Holder
    from batchspec.state.store import StateStore

DEFAULT_PATHS = ["specs"]


def paths_of(args: argparse.Namespace) -> list[str]:
    """Spec paths given, or the default folder."""
    return list(args.paths) or list(DEFAULT_PATHS)


def present_paths(args: argparse.Namespace) -> list[str]:
    """Spec paths given, or the default folder if there is one: `drift` and
    `report` also work on recorded state alone."""
    return list(args.paths) or [p for p in DEFAULT_PATHS if os.path.exists(p)]


def chosen_state(args: argparse.Namespace) -> str | None:
    """The state --state or $BATCHSPEC_STATE names: a file, or remote state
    (`gs://BUCKET/PREFIX`); None for the default file."""
    from batchspec.state import STATE_ENV

    flag: str | None = getattr(args, "state", None)
    return flag or os.environ.get(STATE_ENV)


def check_replace(names: list[str], desired: Any) -> None:
    """`--replace NAME` must name a declared job (a typo must not pass silently)."""
    from batchspec.errors import BatchspecError

    unknown = sorted(set(names) - set(desired.jobs))
    if unknown:
        raise BatchspecError(
            f"--replace names no declared job: {', '.join(unknown)}",
            hint="use the spec's metadata.name; `batchspec plan -v` lists them",
        )


def open_state(
    args: argparse.Namespace,
    *,
    create: bool,
    write: str | None = None,
    readonly: bool = False,
) -> contextlib.AbstractContextManager[StateStore]:
    """The state store named by --state / $BATCHSPEC_STATE / the default, for a
    `with` block.

    `write` names what a command that writes state does (`apply`, `drift`...):
    with remote state (`gs://bucket/prefix`) it takes the remote lock for the
    block, syncs the local working copy and pushes it back at the end; a
    command that only reads gets a private snapshot of the remote state.
    `readonly` for commands that only read (status, plan, history): on a local
    file they work on a file or folder that cannot be written, and skip the
    writers' check.
    """
    from batchspec.remote.location import is_remote
    from batchspec.state import StateStore, resolve_state_path

    location = chosen_state(args)
    if is_remote(location):
        from batchspec.remote.session import RemoteSession

        assert location is not None
        return RemoteSession(
            location,
            create=create,
            purpose=write,
            wait=float(getattr(args, "lock_timeout", 0.0) or 0.0),
            ttl=float(getattr(args, "lease_ttl", 60.0) or 60.0),
            log=warn,
        )
    return StateStore.open(
        resolve_state_path(location),
        create=create,
        readonly=readonly,
        init=bool(getattr(args, "init", False)),
    )


def actor(command: str) -> str:
    """Who is acting, as recorded in transitions: `apply:user@host:pid`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{command}:{user}@{socket.gethostname()}:{os.getpid()}"


def registry() -> BackendRegistry:
    """The backend registry (backends load on first use)."""
    from batchspec.backends.registry import BackendRegistry

    return BackendRegistry()


@contextlib.contextmanager
def leased(
    store: StateStore,
    args: argparse.Namespace,
    command: str,
    *,
    name: str | None = None,
    holder: Holder | None = None,
    wait: float | None = None,
    break_lease: bool | None = None,
) -> Iterator[Callable[[], None]]:
    """Hold a lease (the writer lease unless `name` says otherwise) with the
    command's --lock-timeout, --lease-ttl and --break-lease, for the block.

    Yields a guard that raises LeaseHeldError if the lease was lost meanwhile.
    """
    from batchspec.state.lease import WRITER_LEASE, holding, this_process
    from batchspec.state.records import LeaseInfo

    name = name or WRITER_LEASE

    def broke(before: LeaseInfo) -> None:
        warn(
            f"broke the {name} lease held by {before.owner} ({before.command});"
            " recorded in the audit log"
        )

    with holding(
        store,
        holder or this_process(f"batchspec {command}"),
        name=name,
        ttl=args.lease_ttl,
        wait=args.lock_timeout if wait is None else wait,
        break_lease=args.break_lease if break_lease is None else break_lease,
        on_break=broke,
    ) as guard:
        remote = remote_session(store)
        if remote is None:
            yield guard
            return

        def guarded() -> None:
            guard()
            remote.guard()  # the remote lock still ours; push when a push is due

        yield guarded
        # After each pass of a controller, too (a failed block is pushed, with a
        # warning if that fails as well, when the state is closed).
        remote.checkpoint(force=True)


def remote_session(store: StateStore) -> RemoteSession | None:
    """The remote state session `store` belongs to (None for local state)."""
    if "batchspec.remote.session" not in sys.modules:
        return None  # no remote state was opened in this process
    from batchspec.remote.session import session_of

    return session_of(store)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM / first SIGINT set an event (graceful stop); a second SIGINT interrupts.

    A storage call waiting on an unreachable bucket is interrupted by the same
    event (`batchspec.io.guard.stop_on`), so a stop never waits for its timeouts."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt
        if not stop.is_set():
            warn("stopping: finishing the current action (Ctrl-C again to interrupt)")
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        from batchspec.io.guard import stop_on  # after the handlers: they come first

        with stop_on(stop):  # the stop also ends waits on unreachable storage
            yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def warn(message: str) -> None:
    """A line on stderr."""
    print(message, file=sys.stderr, flush=True)


def say(message: str = "") -> None:
    """A line on stdout, flushed (progress is read live in CI logs)."""
    print(message, flush=True)


def ago(moment: datetime | None, now: datetime) -> str:
    """`3m ago`, `2h ago`, `-`."""
    if moment is None:
        return "-"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain aligned table (stable for scripts and tests)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for row in rows:
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
