"""What every local HTTP double shares: a server on a free port of 127.0.0.1,
served from a daemon thread, and a quiet request handler that answers JSON.

The Vertex AI / ML Engine double (`batchspec.testing.cloud`), the Gemini
Developer API double (`batchspec.testing.cloud.gemini`) and the Cloud Storage
double (`batchspec.testing.gcs`) differ in what they answer, not in how they
start, stop and send an answer: one lifecycle here means a fix to it (a
shutdown that hangs, a client that hangs up mid-answer) reaches all three.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self


class JsonHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing (test output stays readable) and hands every
    request to `_serve(method)`; `owner` is the double it serves."""

    owner: Any
    content_type: ClassVar[str] = "application/json; charset=UTF-8"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        raise NotImplementedError

    def _body(self) -> bytes:
        """The request body (empty without a Content-Length)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        """`payload` as JSON (None: an empty body, as for a redirect or a 308)."""
        data = b"" if payload is None else json.dumps(payload).encode()
        sent = {"Content-Type": self.content_type} if data else {}
        self._send(status, data, {**sent, **(headers or {})})

    def _send(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        """One answer; a client that hung up (a timeout the test asked for, a
        process killed mid-call) ends the connection instead of the thread."""
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


class ServedDouble:
    """Start and stop a double's server: `start()` (or use it as a context
    manager), then point the client at `url`. A subclass names its handler
    class in `handler`; each started server gets its own subclass of it bound
    to this double."""

    handler: ClassVar[type[JsonHandler]]
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Self:
        bound = type("Bound", (self.handler,), {"owner": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"
