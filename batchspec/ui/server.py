"""Running the app: bind, say where it listens, serve until Ctrl-C.

The socket is bound (and listening) before uvicorn starts, so `--port 0`
works (the kernel picks a free port and the ready line names it) and the
ready line is printed only once a browser or a test can connect: uvicorn
has finished its startup on a socket that is already accepting.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from batchspec.errors import BatchspecError

READY = "batchspec ui: serving"


@dataclass(frozen=True)
class Listen:
    """Where to listen and what to print once ready."""

    host: str
    port: int


def bind(where: Listen) -> socket.socket:
    """A listening TCP socket on `where` (a clear error when it cannot be had)."""
    family = socket.AF_INET6 if ":" in where.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((where.host.strip("[]"), where.port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise BatchspecError(
                f"port {where.port} on {where.host} is in use",
                hint="choose another with --port (--port 0 picks a free one)",
            ) from exc
        raise BatchspecError(
            f"cannot listen on {where.host}:{where.port}: {exc.strerror}",
            hint="check --host; 127.0.0.1 is this machine only",
        ) from exc
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    """The URL a browser on this machine opens for the bound socket."""
    port = sock.getsockname()[1]
    shown = host
    if host in ("0.0.0.0", "::", "[::]"):
        shown = "127.0.0.1"
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def serve(app: Any, sock: socket.socket, on_ready: Callable[[], None]) -> None:
    """Serve `app` on `sock` until interrupted; `on_ready` runs once accepting."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                on_ready()

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=2,
    )
    Server(config).run(sockets=[sock])


def say(line: str) -> None:
    """A flushed line on stdout (tests and scripts wait for the ready line)."""
    print(line, flush=True)
    sys.stdout.flush()
