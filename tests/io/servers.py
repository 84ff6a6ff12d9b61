"""Storage endpoints that fail the way networks do, on loopback only.

* `SilentServer`: accepts every connection and never sends a byte (a
  firewall that drops replies, a hung proxy). `accepted` is set at the first
  connection, so a test can wait for "the call is now waiting" instead of
  sleeping.
* `refused_endpoint()`: a port nothing listens on (connection refused).
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts and never answers."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self.accepted = threading.Event()
        self.connections = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """The URL to point STORAGE_EMULATOR_HOST at."""
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._held.append(conn)  # keep it open: the client waits for a reply
            self.connections += 1
            self.accepted.set()

    def close(self) -> None:
        """Stop accepting and drop every held connection."""
        self._sock.close()
        for conn in self._held:
            conn.close()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def refused_endpoint() -> str:
    """A loopback URL whose port refuses connections (bound, never listened on)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
