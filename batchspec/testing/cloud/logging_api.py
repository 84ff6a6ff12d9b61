"""Cloud Logging's `entries:list` (v2, REST) for the REST double.

The double writes log entries as its jobs move, the way the services do:
monitored resource `ml_job` labelled with the job's id (Vertex AI and genai:
the numeric id ending the job's name; ML Engine: the job id) and the
project. `POST /v2/entries:list` answers them as Cloud Logging does:
`resourceNames` scope the project, `filter` is the subset of the logging
query language batchspec sends (`resource.type="..."`,
`resource.labels.K="..."`, `timestamp>="..."` / `>`, joined by AND),
`orderBy` "timestamp asc|desc", `pageSize` / `pageToken` page it. A filter
outside that subset is answered 400, so a change in what batchspec sends
shows up in the tests.

Kept apart from the job API: the request handler (`wire.py`) calls
`LogStore.answer` for this path and the job life cycle (`jobs.py`) calls
`LogStore.job_entered` when a job changes state.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PATH = "/v2/entries:list"
_TERM = re.compile(
    r'^\s*(resource\.type|resource\.labels\.[a-z_]+|timestamp)\s*(=|>=|>)\s*"((?:[^"\\]|\\.)*)"\s*$'
)


class FilterError(ValueError):
    """A filter the double does not understand (answered 400)."""


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LogStore:
    """The entries the double has written, and the `entries:list` method."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = iter(range(1, 10**9))

    def write(
        self,
        project: str,
        job_id: str,
        message: str | dict[str, Any],
        *,
        severity: str = "INFO",
        task: str | None = None,
    ) -> dict[str, Any]:
        """Add one entry, as the service would for the job."""
        labels = {"job_id": job_id, "project_id": project}
        if task:
            labels["task_name"] = task
        entry: dict[str, Any] = {
            "logName": f"projects/{project}/logs/ml.googleapis.com%2F{job_id}",
            "resource": {"type": "ml_job", "labels": labels},
            "timestamp": _stamp(),
            "receiveTimestamp": _stamp(),
            "severity": severity,
        }
        if isinstance(message, dict):
            entry["jsonPayload"] = message
        else:
            entry["textPayload"] = message
        with self._lock:
            entry["insertId"] = f"{next(self._ids):012d}"
            self.entries.append(entry)
        return entry

    def job_entered(self, name: str, state: str) -> None:
        """The line a job's state change leaves in its log."""
        parts = name.strip("/").split("/")
        project, job_id = parts[1], parts[-1]
        severity = "ERROR" if state.endswith("FAILED") else "INFO"
        self.write(project, job_id, f"Job state: {state}", severity=severity, task="service")

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(status, payload) for one `entries:list` call."""
        with self._lock:
            self.requests.append(body)
            entries = list(self.entries)
        projects = {
            n.split("/", 1)[1] for n in body.get("resourceNames", []) if n.startswith("projects/")
        }
        if not projects:
            return 400, _error(400, "resourceNames must name a project", "INVALID_ARGUMENT")
        try:
            terms = parse_filter(body.get("filter", ""))
        except FilterError as exc:
            return 400, _error(400, str(exc), "INVALID_ARGUMENT")
        picked = [
            e
            for e in entries
            if e["resource"]["labels"]["project_id"] in projects and _matches(e, terms)
        ]
        order = str(body.get("orderBy", "timestamp asc")).lower()
        picked.sort(key=lambda e: (e["timestamp"], e["insertId"]), reverse=order.endswith("desc"))
        size = int(body.get("pageSize") or 50)
        start = int(body.get("pageToken") or 0)
        page = picked[start : start + size]
        payload: dict[str, Any] = {"entries": page}
        if start + size < len(picked):
            payload["nextPageToken"] = str(start + size)
        return 200, payload


def parse_filter(text: str) -> list[tuple[str, str, str]]:
    """`a="x" AND b>="y"` -> [(field, op, value)], or FilterError."""
    if not text.strip():
        return []
    terms = []
    for part in re.split(r"\s+AND\s+", text.strip()):
        match = _TERM.match(part)
        if match is None:
            raise FilterError(f"unsupported filter term: {part!r}")
        terms.append((match.group(1), match.group(2), match.group(3).replace('\\"', '"')))
    return terms


def _matches(entry: dict[str, Any], terms: list[tuple[str, str, str]]) -> bool:
    for name, op, value in terms:
        if name == "timestamp":
            ok = entry["timestamp"] >= value if op == ">=" else entry["timestamp"] > value
        elif name == "resource.type":
            ok = entry["resource"]["type"] == value
        else:
            ok = entry["resource"]["labels"].get(name.rsplit(".", 1)[1]) == value
        if not ok:
            return False
    return True


def _error(status: int, message: str, reason: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": reason}}
