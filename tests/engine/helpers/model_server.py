"""A model server following Vertex AI's custom-container contract, for tests.

Reads AIP_HTTP_PORT / AIP_HEALTH_ROUTE / AIP_PREDICT_ROUTE like a real
container. MODE picks a behaviour (the failures of seed 002):

    ok           answer {"predictions": [...]}; HTTP 500 for a batch holding "bad",
                 a body that is not JSON for one holding "garbled", no `predictions`
                 for one holding "nopreds", a closed connection for one holding
                 "dropped", and no answer at all (until stopped) for one holding "stuck"
    ignore_port  listen on a port of its own choosing (a hard-coded port)
    unhealthy    health route answers 503 forever
    exit         exit 3 at start, after printing why
    no_module    import a module that is not installed, at start
    memory       hold ever more memory while answering a predict request
    wrong_count  one prediction too few
    crash        exit on the second predict request
    not_json     answer 200 with plain text
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = os.environ.get("MODE", "ok")
HEALTH = os.environ.get("AIP_HEALTH_ROUTE", "/health")
PREDICT = os.environ.get("AIP_PREDICT_ROUTE", "/predict")
REQUESTS = {"n": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write("server: " + fmt % args + "\n")

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != HEALTH:
            self._send(404, b"{}")
        elif MODE == "unhealthy":
            self._send(503, b'{"status": "loading"}')
        else:
            self._send(200, b'{"status": "ok"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        REQUESTS["n"] += 1
        if self.path != PREDICT:
            self._send(404, b'{"error": "no such route"}')
            return
        if MODE == "crash" and REQUESTS["n"] >= 2:
            sys.stderr.write("server: segmentation fault (simulated)\n")
            sys.stderr.flush()
            os._exit(139)
        instances = body["instances"]
        if MODE == "memory":
            held = []
            while True:
                held.append(b"x" * (16 * 2**20))  # written, so resident
        if MODE == "not_json":
            self._send(200, b"hello", "text/plain")
            return
        text = json.dumps(instances)
        if "bad" in text:
            self._send(500, b'{"error": "model failed on a bad instance"}')
            return
        if "garbled" in text:
            self._send(200, b'{"predictions": [NaN')
            return
        if "nopreds" in text:
            self._send(200, b'{"outputs": []}')
            return
        if "dropped" in text:
            self.close_connection = True  # no answer: the client sees the connection close
            return
        if "stuck" in text:
            threading.Event().wait()  # this request never gets an answer
        preds = [
            {"echo": inst, "params": body.get("parameters"), "model": os.environ["AIP_MODEL_NAME"]}
            for inst in instances
        ]
        if MODE == "wrong_count":
            preds = preds[:-1]
        self._send(200, json.dumps({"predictions": preds}).encode())


def main() -> None:
    dump = os.environ.get("ENV_DUMP")
    if dump:
        with open(dump, "w") as fh:
            json.dump({k: v for k, v in os.environ.items() if k.startswith("AIP_")}, fh)
    if MODE == "no_module":
        import torch_not_in_this_image  # type: ignore[import-not-found]  # noqa: F401
    if MODE == "exit":
        print("model.pkl not found in AIP_STORAGE_URI", flush=True)
        sys.exit(3)
    port = 0 if MODE == "ignore_port" else int(os.environ["AIP_HTTP_PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
