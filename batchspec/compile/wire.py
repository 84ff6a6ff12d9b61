"""Which call a compiled body is for: method, URL, and the REST body on the wire.

Kept static (no discovery document needed) so `batchspec render` prints the
same bytes whatever google-api-python-client version is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from batchspec.compile import genai, mlengine, vertex
from batchspec.compile.identity import gemini_api_body
from batchspec.model.enums import Target
from batchspec.model.jobs import CompiledJob

GLOBAL_LOCATION = "global"
GEMINI_API_ROOT = "https://generativelanguage.googleapis.com"
DEFAULT_KEY_ENV = "$GEMINI_API_KEY or $GOOGLE_API_KEY"


@dataclass(frozen=True)
class WireRequest:
    """The REST request a compiled job becomes: what a service (or a test
    double) receives and what the discovery document describes."""

    api: str
    version: str
    method: str
    http_method: str
    url: str
    params: dict[str, str]
    body: dict[str, Any]


def _vertex_root(location: str) -> str:
    if location == GLOBAL_LOCATION:
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def _location(parent: str) -> str:
    return parent.split("/")[3]


def wire_request(job: CompiledJob) -> WireRequest | None:
    """The REST request for a cloud target; None for the local engine and Ray."""
    parent = job.parent
    if parent is None:
        return None
    body = dict(job.body)
    if job.target is Target.MLENGINE:
        return _post(mlengine, f"https://ml.googleapis.com/v1/{parent}/jobs", parent, body)
    collection = f"{parent}/batchPredictionJobs"
    if job.target is Target.VERTEX:
        return _post(vertex, f"{_vertex_root(_location(parent))}/v1/{collection}", parent, body)
    if job.target is Target.GENAI:
        url = f"{_vertex_root(_location(parent))}/v1beta1/{collection}"
        return _post(genai, url, parent, genai.wire_body(body))
    return None


def _post(api: ModuleType, url: str, parent: str, body: dict[str, Any]) -> WireRequest:
    """A create call of `api` (a target module naming its API, VERSION and METHOD)."""
    return WireRequest(api.API, api.VERSION, api.METHOD, "POST", url, {"parent": parent}, body)


def call_description(job: CompiledJob) -> dict[str, Any]:
    """How to make the call, for people reading `batchspec render`."""
    if gemini_api_body(job.target, job.body):
        settings = job.spec.spec.genai
        key_env = (
            f"${settings.api_key_env}" if settings and settings.api_key_env else DEFAULT_KEY_ENV
        )
        return {
            "method": "google.genai.Client(api_key=...).batches.create",
            "http": f"POST {GEMINI_API_ROOT}/v1beta/{job.body['model']}:batchGenerateContent",
            "client": {"vertexai": False, "api_key": f"read from {key_env} at call time"},
        }
    wire = wire_request(job)
    if wire is None:
        return {"method": f"batchspec {job.target.value} engine"}
    out: dict[str, Any] = {
        "method": wire.method,
        "http": f"{wire.http_method} {wire.url}",
        "parent": job.parent,
    }
    if job.target is Target.GENAI:
        assert job.parent is not None
        project, location = job.parent.split("/")[1], _location(job.parent)
        out["method"] = genai.CALL
        out["client"] = {"vertexai": True, "project": project, "location": location}
    return out


__all__ = ["WireRequest", "call_description", "wire_request"]
