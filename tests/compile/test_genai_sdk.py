"""The real google-genai client, fed the compiled arguments, sends the request
`genai.wire_body` predicts, and that request passes Vertex's v1beta1 schema.

A tiny local HTTP server stands in for Vertex AI and records what arrives.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from batchspec.compile import compile_spec
from batchspec.compile.discovery import match_path, request_problems
from batchspec.compile.genai import wire_body
from tests.compile.conftest import make_spec


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.seen.append(("POST", self.path, body))
        reply = json.dumps(
            {
                "name": "projects/p/locations/l/batchPredictionJobs/42",
                "displayName": body.get("displayName", ""),
                "state": "JOB_STATE_PENDING",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def vertex_double() -> Iterator[tuple[str, list[tuple[str, str, Any]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"input": {"paths": ["gs://b/a.jsonl", "gs://b/more/*"]}},
        {
            "input": {"format": "BIGQUERY", "paths": None, "bigquery": "bq://proj-123456.d.t"},
            "output": {"path": None, "bigquery": "bq://proj-123456.out", "format": "BIGQUERY"},
        },
    ],
    ids=["one-file", "several-files", "bigquery"],
)
def test_sdk_sends_the_predicted_request(
    vertex_double: tuple[str, list[tuple[str, str, Any]]], changes: dict[str, Any]
) -> None:
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    base_url, seen = vertex_double
    job = compile_spec(make_spec("genai", changes, labels={"team": "growth"}), env={})
    expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    client = genai.Client(
        vertexai=True,
        project="proj-123456",
        location="us-east5",
        credentials=Credentials(token="t", expiry=expiry),
        http_options=types.HttpOptions(base_url=base_url),
    )
    created = client.batches.create(
        model=job.body["model"],
        src=job.body["src"],
        config=types.CreateBatchJobConfig.model_validate(job.body["config"]),
    )
    assert created.name == "projects/p/locations/l/batchPredictionJobs/42"
    [(method, path, body)] = seen
    assert path == f"/v1beta1/{job.parent}/batchPredictionJobs"
    assert body == wire_body(job.body)
    assert body["labels"]["batchspec-fp"] == job.fingerprint[:63]
    route = match_path("aiplatform", "v1beta1", method, path)
    assert route is not None
    assert request_problems("aiplatform", "v1beta1", route[0].id, body, route[1]) == []
