"""`batchspec state pull|push|lock-info|break-lock|versions|restore`: remote state.

For state kept in a bucket (`--state gs://BUCKET/PREFIX` or $BATCHSPEC_STATE):
look at its lock and generations, move it between the bucket and a local
file, break a lock whose holder is gone, and put an earlier generation back.
Breaking, restoring and pushing a file are written to the state's audit log
(`batchspec history --audit`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchspec.cli import _runtime as rt
from batchspec.cli._output import emit_json, wants_json

if TYPE_CHECKING:
    from batchspec.remote.protocol import StateObject
    from batchspec.remote.session import RemoteSession

ACTIONS = ("pull", "push", "lock-info", "break-lock", "versions", "restore")


def run(args: argparse.Namespace) -> int:
    """Dispatch to the sub-command."""
    if not getattr(args, "action", None):
        from batchspec.errors import BatchspecError

        raise BatchspecError(
            "batchspec state needs an action: " + ", ".join(ACTIONS),
            hint="batchspec state lock-info --state gs://BUCKET/PREFIX",
        )
    session = _session(args)
    handler = {
        "pull": _pull,
        "push": _push,
        "lock-info": _lock_info,
        "break-lock": _break,
        "versions": _versions,
        "restore": _restore,
    }[args.action]
    return handler(session, args)


def _session(args: argparse.Namespace) -> RemoteSession:
    from batchspec.errors import StateError
    from batchspec.remote.location import is_remote

    location = rt.chosen_state(args)
    if not is_remote(location):
        shown = location or ".batchspec/state.db (the default)"
        raise StateError(
            f"batchspec state {args.action} works on remote state; the state here is the"
            f" local file {shown}",
            hint="pass --state gs://BUCKET/PREFIX (or set $BATCHSPEC_STATE)",
        )
    from batchspec.remote.session import RemoteSession

    assert location is not None
    return RemoteSession(location, create=False, purpose=None, wait=args.lock_timeout, log=rt.warn)


def _pull(session: RemoteSession, args: argparse.Namespace) -> int:
    from batchspec.remote import admin

    if args.out:
        remote = admin.pull_copy(session, Path(args.out), force=args.force)
        rt.say(f"pulled {session.location} {_describe(remote)} to {args.out}")
        return 0
    live = admin.sync_working_copy(session)
    if live is None:
        rt.say(f"{session.location} holds no state yet")
        return 0
    rt.say(f"working copy {session.copy.path} is at {_describe(live)}")
    return 0


def _push(session: RemoteSession, args: argparse.Namespace) -> int:
    from batchspec.remote import admin

    remote = admin.push_file(session, Path(args.file), force=args.force, actor=rt.actor("state"))
    rt.say(f"pushed {args.file} to {session.location}: {_describe(remote)}")
    return 0


def _lock_info(session: RemoteSession, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from batchspec.remote import admin
    from batchspec.state.records import utc_now

    found = admin.status(session)
    now = utc_now()
    if wants_json(args):
        lock = found.lock.record if found.lock else None
        emit_json(
            {
                "url": found.url,
                "lock": None
                if lock is None
                else {
                    **asdict(lock),
                    "age_seconds": round((now - lock.acquired_at).total_seconds(), 1),
                    "stale": lock.stale(now),
                },
                "state": _version_dict(found.state) if found.state else None,
                "working_copy": str(found.working_copy),
                "working_copy_generation": found.working_generation,
            }
        )
        return 0
    if found.lock is None:
        rt.say(f"{found.url}: not locked")
    else:
        stale = " (STALE: its holder stopped renewing it)" if found.lock.record.stale(now) else ""
        rt.say(f"{found.url}: locked{stale} by {found.lock.record.describe(now)}")
    state = _describe(found.state) if found.state else "no state yet"
    rt.say(f"state: {state}")
    rt.say(f"working copy: {found.working_copy} (generation {found.working_generation or '-'})")
    return 0


def _break(session: RemoteSession, args: argparse.Namespace) -> int:
    from batchspec.remote import admin
    from batchspec.state.records import utc_now

    held = admin.break_lock(session, lock_id=args.lock_id, actor=rt.actor("state break-lock"))
    rt.say(
        f"broke the lock of {session.location} held by {held.record.describe(utc_now())};"
        " recorded in the audit log (`batchspec history --audit`)"
    )
    return 0


def _versions(session: RemoteSession, args: argparse.Namespace) -> int:
    from batchspec.remote import admin

    found = admin.versions(session)
    if wants_json(args):
        emit_json([_version_dict(v) for v in found])
        return 0
    if not found:
        rt.say(f"{session.location} holds no state yet")
        return 0
    rows = [
        [
            str(v.generation),
            "live" if v.live else ("kept copy" if v.kept_as else "noncurrent version"),
            str(v.serial if v.serial is not None else "-"),
            f"{v.updated:%Y-%m-%d %H:%M:%S}" if v.updated else "-",
            v.writer or "-",
        ]
        for v in found
    ]
    rt.say(rt.table(rows, ["GENERATION", "KIND", "SERIAL", "WRITTEN (UTC)", "WRITER"]))
    rt.say("restore one: batchspec state restore GENERATION")
    return 0


def _restore(session: RemoteSession, args: argparse.Namespace) -> int:
    from batchspec.remote import admin

    remote = admin.restore(session, args.generation, actor=rt.actor("state restore"))
    rt.say(
        f"restored generation {args.generation} of {session.location}; live now: "
        f"{_describe(remote)} (recorded in the audit log)"
    )
    return 0


def _describe(remote: StateObject | None) -> str:
    if remote is None:
        return "no state"
    serial = f", serial {remote.serial}" if remote.serial is not None else ""
    return f"generation {remote.generation}{serial}, {remote.size:,} bytes"


def _version_dict(v: StateObject) -> dict[str, Any]:
    return {
        "generation": v.generation,
        "live": v.live,
        "kept_as": v.kept_as,
        "serial": v.serial,
        "lineage": v.lineage,
        "size": v.size,
        "updated": v.updated,
        "writer": v.writer,
    }
