"""`batchspec ui`: a live web view of the recorded jobs, on this machine.

Read-only. Binds 127.0.0.1 by default; another interface needs
`--allow-remote` and a token (from $BATCHSPEC_UI_TOKEN, `--token-file`, or
made up and printed in the URL).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from batchspec.cli import _runtime as rt
from batchspec.cli._commands_jobs import UI_TOKEN_ENV
from batchspec.errors import BatchspecError

if TYPE_CHECKING:
    from batchspec.ui.source import StateReader

UI_MODULES = ("starlette", "uvicorn", "jinja2", "plotly")
_TOKEN_TEXT = re.compile(r"^[A-Za-z0-9._~-]{16,256}$")


def require_extra(command: str) -> None:
    """A clear error when the ui extra is not installed."""
    import importlib.util

    missing = [m for m in UI_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise BatchspecError(
            f"`batchspec {command}` needs {', '.join(missing)}, which come with the ui extra",
            hint="pip install 'batchspec[ui]'  (or: scripts/setup ui)",
        )


def _token(args: argparse.Namespace) -> str:
    if args.token_file:
        try:
            text = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BatchspecError(
                f"cannot read --token-file {args.token_file}: {exc.strerror}"
            ) from exc
    else:
        text = os.environ.get(UI_TOKEN_ENV, "").strip() or secrets.token_urlsafe(32)
    if not _TOKEN_TEXT.match(text):
        raise BatchspecError(
            "the ui token must be 16 to 256 characters of letters, digits and . _ ~ -",
            hint="make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    return text


def _reader(args: argparse.Namespace) -> StateReader:
    """The state the pages read: a local file, or remote state's live generation."""
    from batchspec.remote.location import is_remote
    from batchspec.ui.source import RemoteStateReader, StateReader, state_location

    chosen = rt.chosen_state(args)
    if is_remote(chosen):
        assert chosen is not None
        return RemoteStateReader(chosen, log=rt.warn)
    return StateReader(state_location(args.state))


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    require_extra("ui")
    from batchspec.ui.security import is_loopback

    local = is_loopback(args.host)
    if not local and not args.allow_remote:
        raise BatchspecError(
            f"--host {args.host} would let other machines read the jobs",
            hint="add --allow-remote to mean it (a token is then required), or keep 127.0.0.1",
        )
    if not 0 <= args.port <= 65535:
        raise BatchspecError(f"--port {args.port} is not a port number (0-65535)")
    wants_token = not local or args.token_file or os.environ.get(UI_TOKEN_ENV)
    token = _token(args) if wants_token else None

    from batchspec.ui.app import create_app
    from batchspec.ui.server import READY, Listen, bind, say, serve, url_of

    sock = bind(Listen(args.host, args.port))
    try:
        reader = _reader(args)
    except BaseException:
        sock.close()
        raise
    location = reader.label
    url = url_of(sock, args.host)
    shown = f"{url}?token={token}" if token else url
    try:
        reader.call(lambda store: store.serial)  # a state file it cannot read fails here
    except BaseException:
        reader.close()
        sock.close()
        raise
    app = create_app(reader, token=token, loopback_only=local)

    def ready() -> None:
        say(f"{READY} {location} at {shown} (read-only; Ctrl-C to stop)")

    try:
        serve(app, sock, ready)
    finally:
        reader.close()
        sock.close()
    return 0
