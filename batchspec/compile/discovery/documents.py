"""The discovery documents google-api-python-client ships, and their REST methods.

Loading (without importing the client library, whose import pulls in
google-auth), method lookup by id, and routing a URL path back to its method,
which the HTTP doubles use to answer the way the real front end would.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from batchspec.errors import BatchspecError


def documents_dir() -> Path:
    """Where the installed google-api-python-client keeps its discovery documents.

    Found without importing the package (its import pulls in google-auth)."""
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        raise BatchspecError(
            "google-api-python-client is not installed; its discovery documents are the"
            " reference for request bodies",
            hint="pip install 'batchspec[vertex]'",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents"


@lru_cache(maxsize=8)
def discovery_document(api: str, version: str) -> dict[str, Any]:
    """The parsed discovery document `api.version.json` (cached)."""
    path = documents_dir() / f"{api}.{version}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchspecError(
            f"no discovery document {api}.{version} in {path.parent}",
            hint="upgrade google-api-python-client",
        ) from None
    return data


@dataclass(frozen=True)
class DiscoveryMethod:
    """One REST method of a discovery document."""

    api: str
    version: str
    id: str
    http_method: str
    path: str
    flat_path: str
    request: str | None
    response: str | None
    parameters: Mapping[str, Any]
    root_url: str

    def url(self, *, location: str | None = None, **params: str) -> str:
        """The full URL with path parameters filled in (`{+parent}` keeps slashes),
        on the locational endpoint of `location` when the API has one."""
        path = re.sub(r"\{\+?(\w+)\}", lambda m: params[m.group(1)], self.path)
        root = endpoint_url(self.api, self.version, location) if location else self.root_url
        return root.rstrip("/") + "/" + path

    def parameter_problems(self, params: Mapping[str, str]) -> list[str]:
        """Required path parameters that are missing or break their pattern."""
        problems = []
        for name, spec in self.parameters.items():
            if spec.get("location") != "path":
                continue
            value = params.get(name)
            if value is None:
                if spec.get("required"):
                    problems.append(f"parameter `{name}` is required")
                continue
            pattern = spec.get("pattern")
            if pattern and not re.search(pattern, value):
                problems.append(f"parameter `{name}`={value!r} does not match {pattern}")
        return problems


def endpoint_url(api: str, version: str, location: str) -> str:
    """The API's locational endpoint for `location`, else its global root URL."""
    doc = discovery_document(api, version)
    for endpoint in doc.get("endpoints", []):
        if endpoint.get("location") == location:
            return str(endpoint["endpointUrl"])
    return str(doc.get("rootUrl", ""))


def _methods(resources: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for resource in resources.values():
        yield from resource.get("methods", {}).values()
        yield from _methods(resource.get("resources", {}))


@lru_cache(maxsize=64)
def find_method(api: str, version: str, method_id: str) -> DiscoveryMethod:
    """The method `method_id` (e.g. ``ml.projects.jobs.create``)."""
    doc = discovery_document(api, version)
    for method in _methods(doc.get("resources", {})):
        if method.get("id") == method_id:
            return _method(api, version, doc, method)
    raise KeyError(f"{api}.{version} has no method {method_id!r}")


def _method(
    api: str, version: str, doc: Mapping[str, Any], method: Mapping[str, Any]
) -> DiscoveryMethod:
    return DiscoveryMethod(
        api=api,
        version=version,
        id=method["id"],
        http_method=method["httpMethod"],
        path=method["path"],
        flat_path=method.get("flatPath", method["path"]),
        request=(method.get("request") or {}).get("$ref"),
        response=(method.get("response") or {}).get("$ref"),
        parameters=method.get("parameters", {}),
        root_url=doc.get("rootUrl", ""),
    )


def match_path(
    api: str, version: str, http_method: str, url_path: str
) -> tuple[DiscoveryMethod, dict[str, str]] | None:
    """The method whose ``flatPath`` matches `url_path` (``/v1/projects/p/jobs``),
    with its path parameters rebuilt (``{"parent": "projects/p"}``).

    For HTTP doubles: route a request the way the real front end would."""
    doc = discovery_document(api, version)
    wanted = url_path.lstrip("/").split("?", 1)[0]
    best: tuple[int, DiscoveryMethod, dict[str, str]] | None = None
    for raw in _methods(doc.get("resources", {})):
        if raw["httpMethod"] != http_method.upper():
            continue
        flat = raw.get("flatPath", raw["path"])
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(flat)) + "$"
        found = re.match(regex, wanted)
        if not found:
            continue
        literal = len(re.sub(r"\{\w+\}", "", flat))  # prefer the most specific template
        method = _method(api, version, doc, raw)
        params = _rebuild_params(method, wanted)
        if best is None or literal > best[0]:
            best = (literal, method, params)
    return (best[1], best[2]) if best else None


def _rebuild_params(method: DiscoveryMethod, wanted: str) -> dict[str, str]:
    pattern = re.escape(method.path)
    pattern = re.sub(r"\\\{\\\+(\w+)\\\}", r"(?P<\1>.+)", pattern)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    found = re.match("^" + pattern + "$", wanted)
    return dict(found.groupdict()) if found else {}
