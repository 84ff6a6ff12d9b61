"""A local HTTP double of the Gemini Developer API's batches, for google-genai
(`GeminiDouble().start()`, then point `GenaiBackend(gemini_base_url=...)` at
its `url`).

google-genai in Gemini Developer API mode (`genai.Client(api_key=...)`)
calls `POST /v1beta/models/M:batchGenerateContent`, `GET /v1beta/batches/ID`,
`GET /v1beta/batches`, `POST /v1beta/batches/ID:cancel` and
`DELETE /v1beta/batches/ID`, with the key in the `x-goog-api-key` header.
Like the service, the double answers long-running operations whose
`metadata` is the batch, refuses unknown request fields with 400 (recorded
in `rejected`, as the Vertex double does), refuses calls without a key with
401, and walks each batch PENDING -> RUNNING -> SUCCEEDED one step per read.
It records every key it saw in `keys`, so tests can check the key travelled
in the header and nowhere else.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from batchspec.testing.httpdouble import JsonHandler, ServedDouble

STEPS = ["BATCH_STATE_PENDING", "BATCH_STATE_RUNNING", "BATCH_STATE_SUCCEEDED"]
TERMINAL = {
    "BATCH_STATE_SUCCEEDED",
    "BATCH_STATE_FAILED",
    "BATCH_STATE_CANCELLED",
    "BATCH_STATE_EXPIRED",
}
_BATCH_KEYS = {"displayName", "inputConfig", "webhookConfig", "model", "priority"}
_INPUT_KEYS = {"requests", "fileName"}
_ITEM_KEYS = {"request", "metadata"}
_REQUEST_KEYS = {
    "model",
    "contents",
    "generationConfig",
    "systemInstruction",
    "tools",
    "toolConfig",
    "safetySettings",
    "cachedContent",
}


class RefusedError(Exception):
    """An error answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def request_problems(body: Any) -> list[str]:
    """Why a batchGenerateContent body would be refused (unknown names, shape)."""
    problems: list[str] = []

    def unknown(where: str, value: Any, allowed: set[str]) -> None:
        if not isinstance(value, dict):
            problems.append(f"{where} is not an object")
            return
        problems.extend(f"Unknown name {k!r} at {where}" for k in value if k not in allowed)

    unknown("body", body, {"batch"})
    batch = body.get("batch", {}) if isinstance(body, dict) else {}
    unknown("batch", batch, _BATCH_KEYS)
    config = batch.get("inputConfig", {})
    unknown("batch.inputConfig", config, _INPUT_KEYS)
    if isinstance(config, dict) and len(set(config) & _INPUT_KEYS) != 1:
        problems.append("batch.inputConfig needs exactly one of requests, fileName")
    items = (config.get("requests") or {}).get("requests", []) if isinstance(config, dict) else []
    for i, item in enumerate(items):
        unknown(f"requests[{i}]", item, _ITEM_KEYS)
        request = item.get("request", {}) if isinstance(item, dict) else {}
        unknown(f"requests[{i}].request", request, _REQUEST_KEYS)
        if not isinstance(request.get("contents"), list):
            problems.append(f"requests[{i}].request.contents must be a list")
    return problems


class _Handler(JsonHandler):
    owner: GeminiDouble
    content_type = "application/json"

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        raw = self._body()
        self.owner.paths.append(self.path)
        key = self.headers.get("x-goog-api-key")
        try:
            if not key:
                raise RefusedError(401, "API key not valid. Please pass a valid API key.")
            self.owner.keys.append(key)
            body = json.loads(raw) if raw else {}
            self._answer(200, self.owner.handle(method, split.path, query, body))
        except RefusedError as refused:
            self._answer(
                refused.status, {"error": {"code": refused.status, "message": str(refused)}}
            )


@dataclass
class GeminiDouble(ServedDouble):
    """The server. Start with `start()` (or use as a context manager)."""

    handler = _Handler

    page_size: int = 50
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    creates: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[list[str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> Any:
        with self._lock:
            return self._handle(method, path, query, body)

    def _handle(self, method: str, path: str, query: dict[str, str], body: Any) -> Any:
        route = path.removeprefix("/v1beta/")
        if method == "POST" and route.endswith(":batchGenerateContent"):
            problems = request_problems(body)
            if problems:
                self.rejected.append(problems)
                raise RefusedError(400, "Invalid JSON payload received. " + "; ".join(problems))
            self.creates.append(body)
            name = f"batches/{next(self._ids)}"
            batch = body["batch"]
            count = len((batch["inputConfig"].get("requests") or {}).get("requests", []))
            self.batches[name] = {
                "name": name,
                "model": route.removesuffix(":batchGenerateContent"),
                "displayName": batch.get("displayName", ""),
                "state": STEPS[0],
                "createTime": _now(),
                "_requests": count,
                "_file": "fileName" in batch["inputConfig"],
            }
            return self._operation(name)
        if method == "GET" and route == "batches":
            items = [self._operation(n) for n in self.batches]
            size = int(query.get("pageSize") or self.page_size)
            start = int(base64.b64decode(query["pageToken"])) if query.get("pageToken") else 0
            answer: dict[str, Any] = {"operations": items[start : start + size]}
            if start + size < len(items):
                answer["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
            return answer
        name = route.split(":")[0]
        if name not in self.batches:
            raise RefusedError(404, f"batch {name} not found")
        batch = self.batches[name]
        if method == "GET":
            if batch["state"] not in TERMINAL:
                batch["state"] = STEPS[min(STEPS.index(batch["state"]) + 1, len(STEPS) - 1)]
            return self._operation(name)
        if method == "POST" and route.endswith(":cancel"):
            if batch["state"] in TERMINAL:
                raise RefusedError(400, f"batch {name} is already {batch['state']}")
            batch["state"] = "BATCH_STATE_CANCELLED"
            return {}
        if method == "DELETE":
            del self.batches[name]
            return {}
        raise RefusedError(404, f"the double does not serve {method} {path}")

    def _operation(self, name: str) -> dict[str, Any]:
        batch = self.batches[name]
        metadata = {k: v for k, v in batch.items() if not k.startswith("_")}
        metadata["@type"] = (
            "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
        )
        done = batch["state"] in TERMINAL
        if batch["state"] == "BATCH_STATE_SUCCEEDED":
            if batch["_file"]:
                metadata["output"] = {"responsesFile": f"files/{name.split('/')[1]}-responses"}
            else:
                answer = {
                    "response": {
                        "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}}]
                    }
                }
                metadata["output"] = {
                    "inlinedResponses": {"inlinedResponses": [answer] * batch["_requests"]}
                }
        return {"name": name, "metadata": metadata, "done": done}


__all__ = ["GeminiDouble", "request_problems"]
