"""The REST double's HTTP face: routing by the discovery documents, request
and answer schema checks, enum encodings, faults on the wire."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from batchspec.backends.cloud import VERTEX_STATE_ORDER
from batchspec.compile.discovery import match_path, request_problems, schema_problems
from batchspec.testing.cloud.faults import STATUS_NAMES, Faults
from batchspec.testing.cloud.jobs import AnswerError, Call
from batchspec.testing.cloud.logging_api import PATH as LOGGING_PATH
from batchspec.testing.cloud.logging_api import LogStore
from batchspec.testing.httpdouble import JsonHandler

_STATE_NUMBER = {f"JOB_STATE_{s.value}": i for i, s in enumerate(VERTEX_STATE_ORDER)}


def _names_for_enums(body: Any) -> Any:
    """The request with enum numbers turned into names, as the service's proto
    JSON parser reads them (`enum-encoding=int` clients send numbers). Parsed
    with the client library's own message type; fields it does not know are
    left for the schema check to report."""
    from google.cloud import aiplatform_v1

    message = aiplatform_v1.BatchPredictionJob.from_json(
        json.dumps(body), ignore_unknown_fields=True
    )
    named = aiplatform_v1.BatchPredictionJob.to_dict(
        message, use_integers_for_enums=False, preserving_proto_field_name=False
    )

    def merge(raw: Any, parsed: Any) -> Any:
        if isinstance(raw, dict) and isinstance(parsed, dict):
            return {k: merge(v, parsed.get(k)) for k, v in raw.items()}
        if isinstance(raw, list) and isinstance(parsed, list) and len(raw) == len(parsed):
            return [merge(a, b) for a, b in zip(raw, parsed, strict=True)]
        if isinstance(raw, int) and not isinstance(raw, bool) and isinstance(parsed, str):
            return parsed
        return raw

    return merge(body, named)


def _ints_for_enums(value: Any) -> Any:
    """`state` as its number, as `enum-encoding=int` asks."""
    if isinstance(value, dict):
        return {
            k: (
                _STATE_NUMBER.get(v, v)
                if k == "state" and isinstance(v, str)
                else _ints_for_enums(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_ints_for_enums(v) for v in value]
    return value


_APIS = {
    "vertex": ("aiplatform", "v1"),
    "models": ("aiplatform", "v1"),
    "operations": ("aiplatform", "v1"),
    "genai": ("aiplatform", "v1beta1"),
    "mlengine": ("ml", "v1"),
}


def _route(http_method: str, path: str) -> tuple[str, Any, dict[str, str]] | None:
    if path.startswith("/ui/projects/") and "/operations" in path:
        # google.longrunning.Operations in aiplatform v1 binds `/ui/{name=...}`
        # first and `/v1/{name=...}` second; google-api-core's REST operations
        # client takes the first, so the service answers both.
        path = "/v1/" + path.removeprefix("/ui/")
    if path.startswith("/v1beta1/"):
        kind = "genai"
    elif "/batchPredictionJobs" in path:
        kind = "vertex"
    elif path.startswith("/v1/projects/") and "/models" in path:
        kind = "operations" if "/operations" in path else "models"
    elif path.startswith("/v1/projects/") and "/jobs" in path:
        kind = "mlengine"
    else:
        return None
    api, version = _APIS[kind]
    found = match_path(api, version, http_method, path)
    if found is None:
        return None
    method, raw_params = found
    params = {k: unquote(v) for k, v in raw_params.items()}  # `ID%40ALIAS` is `ID@ALIAS`
    served = ("batchPredictionJobs", ".locations.models.")
    if not any(s in method.id for s in served) and not method.id.startswith("ml.projects.jobs."):
        return None
    return kind, method, params


class Served(Protocol):
    """What the HTTP face needs of the double behind it (`server.CloudDouble`):
    a Protocol, so the server module builds on this one and not both ways."""

    _lock: threading.RLock
    faults: Faults
    calls: list[Call]
    rejected: list[tuple[str, list[str]]]
    errors: list[str]
    logs: LogStore

    def handle(
        self, kind: str, call: str, params: dict[str, str], body: Any, query: dict[str, str]
    ) -> Any: ...


class Handler(JsonHandler):
    owner: Served
    protocol_version = "HTTP/1.1"

    def _serve(self, http_method: str) -> None:
        double = self.owner
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        ints = "enum-encoding=int" in unquote(split.query)
        raw = self._body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            self._answer(400, _error(400, "request body is not JSON", "INVALID_ARGUMENT"))
            return
        if http_method == "POST" and split.path == LOGGING_PATH:
            return self._answer(*double.logs.answer(body))
        routed = _route(http_method, split.path)
        if routed is None:
            self._answer(
                404, _error(404, f"no such method: {http_method} {split.path}", "NOT_FOUND")
            )
            return
        kind, method, params = routed
        call = method.id.rsplit(".", 1)[-1]
        record = Call(kind, call, http_method, split.path, body)
        with double._lock:
            double.calls.append(record)
        fault = double.faults.take(call, kind)
        if fault is not None and fault.kind == "status":
            record.status = fault.status
            self._answer(
                fault.status, _error(fault.status, fault.message, STATUS_NAMES.get(fault.status))
            )
            return
        if ints and kind == "vertex" and call == "create":
            body = _names_for_enums(body)
            record.body = body
        if method.request is not None:
            problems = [
                str(p)
                for p in request_problems(method.api, method.version, method.id, body, params)
            ]
            if problems:
                double.rejected.append((method.id, problems))
                record.status = 400
                self._answer(400, _error(400, "; ".join(problems), "INVALID_ARGUMENT"))
                return
        try:
            answer = double.handle(kind, call, params, body, query)
        except AnswerError as failure:
            record.status = failure.status
            self._answer(failure.status, _error(failure.status, failure.message, failure.reason))
            return
        if method.response is not None:
            problems = [
                str(p)
                for p in schema_problems(
                    method.api, method.version, method.response, answer, direction="response"
                )
            ]
            if problems:
                double.errors.append(f"{method.id} answer breaks its schema: {problems}")
        if ints:
            answer = _ints_for_enums(answer)
        if fault is not None and fault.kind == "drop":
            record.status = -1
            self.close_connection = True
            return
        if fault is not None and fault.kind == "timeout":
            record.status = -1
            time.sleep(fault.delay)
        self._answer(200, answer)


def _error(status: int, message: str, reason: str | None) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": reason or "UNKNOWN"}}
