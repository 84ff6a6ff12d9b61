"""One page of jobs at a time, filtered in SQL: what a jobs list over 10,000
recorded jobs needs without reading them all.

`status` reads every current job because it prints them all; a web page
shows fifty. Filtering (state, target, label, a name search), counting and
the page itself run in one read transaction, so the page, its total and the
facet counts agree. Labels live in the recorded spec (`metadata.labels` of
the revision), so a label filter joins the revision through SQLite's JSON
functions; names are matched with LIKE, its wildcards escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from batchspec.state.base import JOB_COLUMNS, StoreBase, _job
from batchspec.state.records import JobRecord

SUBMITTING = "SUBMITTING"  # a job whose submit has not been answered yet (state NULL)
SORTS = {
    "name": "name, id",
    "newest": "id DESC",
    "updated": "updated_at DESC, id DESC",
}


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a page shows.

    `scope` is `current` (the job that stands for each spec name, like
    `batchspec status`) or `all` (every job ever recorded, like `status
    --all`); `labels` are `(key, value)` pairs that must all match, a value
    of None matching any value of the key."""

    scope: str = "current"
    states: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    labels: tuple[tuple[str, str | None], ...] = ()
    search: str = ""
    sort: str = "name"

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause (with its parameters) selecting these jobs."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.scope != "all":
            clauses.append("disposition = 'current'")
        if self.states:
            known = [s for s in self.states if s != SUBMITTING]
            parts = []
            if known:
                parts.append(f"state IN ({','.join('?' * len(known))})")
                params.extend(known)
            if SUBMITTING in self.states:
                parts.append("state IS NULL")
            clauses.append(f"({' OR '.join(parts)})")
        if self.targets:
            clauses.append(f"target IN ({','.join('?' * len(self.targets))})")
            params.extend(self.targets)
        if self.search:
            clauses.append("name LIKE ? ESCAPE '\\'")
            params.append(f"%{_like_escape(self.search)}%")
        for key, value in self.labels:
            match = "l.key = ?" + ("" if value is None else " AND l.value = ?")
            clauses.append(
                "EXISTS (SELECT 1 FROM revisions r, json_each(r.spec, '$.metadata.labels') l"
                f" WHERE r.fingerprint = jobs.fingerprint AND {match})"
            )
            params.append(key)
            if value is not None:
                params.append(value)
        return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


@dataclass(frozen=True)
class JobPage:
    """One page of jobs, how many match in all, and counts for the filter menus."""

    records: list[JobRecord]
    total: int
    offset: int
    limit: int
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # fingerprint -> labels
    states: dict[str, int] = field(default_factory=dict)  # over the scope, unfiltered
    targets: dict[str, int] = field(default_factory=dict)
    serial: int = 0


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page_jobs(store: StoreBase, where: JobFilter, *, offset: int = 0, limit: int = 50) -> JobPage:
    """Jobs matching `where`, `limit` of them from `offset`, read consistently."""
    offset, limit = max(0, int(offset)), max(1, int(limit))
    clause, params = where.where()
    order = SORTS.get(where.sort, SORTS["name"])
    scope = "" if where.scope == "all" else "WHERE disposition = 'current'"
    with store._read() as conn:
        total = int(conn.execute(f"SELECT count(*) FROM jobs {clause}", params).fetchone()[0])
        rows = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        records = [_job(row) for row in rows]
        states = {
            (state or SUBMITTING): int(count)
            for state, count in conn.execute(
                f"SELECT state, count(*) FROM jobs {scope} GROUP BY state"
            )
        }
        targets = {
            str(target): int(count)
            for target, count in conn.execute(
                f"SELECT target, count(*) FROM jobs {scope} GROUP BY target"
            )
        }
        labels = _labels(conn, {r.fingerprint for r in records})
        serial = store.serial
    return JobPage(records, total, offset, limit, labels, states, targets, serial)


def _labels(conn: Any, fingerprints: set[str]) -> dict[str, dict[str, str]]:
    """`metadata.labels` of these revisions."""
    if not fingerprints:
        return {}
    wanted = sorted(fingerprints)
    marks = ",".join("?" * len(wanted))
    out: dict[str, dict[str, str]] = {fp: {} for fp in wanted}
    for fingerprint, key, value in conn.execute(
        "SELECT r.fingerprint, l.key, l.value FROM revisions r,"
        f" json_each(r.spec, '$.metadata.labels') l WHERE r.fingerprint IN ({marks})",
        wanted,
    ):
        out[fingerprint][str(key)] = str(value)
    return out


def label_keys(store: StoreBase) -> list[str]:
    """Every label key used by a recorded revision (for the filter menu)."""
    rows = store.connection.execute(
        "SELECT DISTINCT l.key FROM revisions r, json_each(r.spec, '$.metadata.labels') l"
        " ORDER BY l.key"
    )
    return [str(row[0]) for row in rows]


__all__ = ["SUBMITTING", "JobFilter", "JobPage", "label_keys", "page_jobs"]
