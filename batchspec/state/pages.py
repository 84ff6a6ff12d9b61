"""One page of jobs at a time, filtered in SQL: what a jobs list over 10,000
recorded jobs needs without reading them all.

`status` reads every current job because it prints them all; a web page
shows fifty. Filtering (state, target, label, a name search), counting and
the page itself run in one read transaction, so the page, its total and the
facet counts agree. Labels live in the recorded spec (`metadata.labels` of
the revision), so a label filter selects the matching revisions once through
SQLite's JSON functions; names are matched with LIKE, its wildcards escaped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from batchspec.state.base import JOB_COLUMNS, StoreBase, _job
from batchspec.state.records import JobRecord

SUBMITTING = "SUBMITTING"  # a job whose submit has not been answered yet (state NULL)
# Migration 1's unique partial index on jobs(name) WHERE disposition = 'current'
# holds the current jobs in name order. Without statistics SQLite prefers the
# (disposition, state) index and sorts every current row for each page (about
# 100 ms at 10,000 jobs); walking this index reads only the page (under 1 ms).
CURRENT_BY_NAME = "INDEXED BY jobs_current"
SORTS = {
    "name": "name, id",
    "newest": "id DESC",
    "updated": "updated_at DESC, id DESC",
}


@dataclass(frozen=True)
class RevisionSet:
    """Fingerprints of revisions: `members`, or (negated) every revision but them.
    The smaller side is the one sent to SQLite."""

    members: frozenset[str]
    negated: bool = False


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a page shows.

    `scope` is `current` (the job that stands for each spec name, like
    `batchspec status`) or `all` (every job ever recorded, like `status
    --all`); `labels` are `(key, value)` pairs that must all match, a value
    of None matching any value of the key. `revisions`, when set, is the
    label filter already resolved (by a `LabelIndex`) to the fingerprints of
    the revisions it matches, which spares each query a pass over every
    revision's labels."""

    scope: str = "current"
    states: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    labels: tuple[tuple[str, str | None], ...] = ()
    search: str = ""
    sort: str = "name"
    revisions: RevisionSet | None = None

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
        if self.labels and self.revisions is not None:
            negation = "NOT " if self.revisions.negated else ""
            clauses.append(f"fingerprint {negation}IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(sorted(self.revisions.members)))
        elif self.labels:
            for key, value in self.labels:
                match = "l.key = ?" + ("" if value is None else " AND l.value = ?")
                # Not correlated: SQLite reads the revisions' labels once per query.
                clauses.append(
                    "fingerprint IN (SELECT r.fingerprint FROM revisions r,"
                    f" json_each(r.spec, '$.metadata.labels') l WHERE {match})"
                )
                params.append(key)
                if value is not None:
                    params.append(value)
        return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params

    def by_name_index(self) -> bool:
        """True when walking the current-jobs name index answers this filter in order."""
        return self.scope != "all" and self.sort == "name"


@dataclass(frozen=True)
class JobPage:
    """One page of jobs and how many match in all."""

    records: list[JobRecord]
    total: int
    offset: int
    limit: int
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # fingerprint -> labels
    serial: int = 0


@dataclass(frozen=True)
class Facets:
    """Counts for the filter menus, over the whole scope (not the filter)."""

    states: dict[str, int]
    targets: dict[str, int]
    serial: int


@dataclass(frozen=True)
class LabelIndex:
    """Every recorded revision's labels: key -> value -> fingerprints.

    Revisions are only ever added, so `mark` (their highest row id) says
    whether an index is still complete."""

    mark: int
    labels: dict[str, dict[str, frozenset[str]]]
    every: frozenset[str] = frozenset()

    @property
    def keys(self) -> list[str]:
        """Label keys in use, sorted."""
        return sorted(self.labels)

    def matching(self, labels: tuple[tuple[str, str | None], ...]) -> RevisionSet:
        """The revisions carrying every (key, value) pair."""
        found = self._matching(labels)
        if len(found) * 2 > len(self.every):
            return RevisionSet(self.every - found, negated=True)
        return RevisionSet(found)

    def _matching(self, labels: tuple[tuple[str, str | None], ...]) -> frozenset[str]:
        found: frozenset[str] | None = None
        for key, value in labels:
            values = self.labels.get(key, {})
            if value is None:
                these = frozenset().union(*values.values()) if values else frozenset()
            else:
                these = values.get(value, frozenset())
            found = these if found is None else found & these
        return found or frozenset()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page_jobs(store: StoreBase, where: JobFilter, *, offset: int = 0, limit: int = 50) -> JobPage:
    """Jobs matching `where`, `limit` of them from `offset`, read consistently."""
    offset, limit = max(0, int(offset)), max(1, int(limit))
    clause, params = where.where()
    order = SORTS.get(where.sort, SORTS["name"])
    hint = CURRENT_BY_NAME if where.by_name_index() else ""
    # Counting by state is cheapest on the (disposition, state) index; by name alone
    # (or nothing), on the name index.
    count_hint = hint if not (where.states or where.targets or where.labels) else ""
    with store._read() as conn:
        total = int(
            conn.execute(f"SELECT count(*) FROM jobs {count_hint} {clause}", params).fetchone()[0]
        )
        rows = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs {hint} {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        records = [_job(row, store.path) for row in rows]
        labels = _labels(conn, {r.fingerprint for r in records})
        serial = store.serial
    return JobPage(records, total, offset, limit, labels, serial)


def facets(store: StoreBase, scope: str = "current") -> Facets:
    """State and target counts over `scope` (`current` or `all`)."""
    where = "" if scope == "all" else "WHERE disposition = 'current'"
    with store._read() as conn:
        states = {
            (state or SUBMITTING): int(count)
            for state, count in conn.execute(
                f"SELECT state, count(*) FROM jobs {where} GROUP BY state"
            )
        }
        targets = {
            str(target): int(count)
            for target, count in conn.execute(
                f"SELECT target, count(*) FROM jobs {where} GROUP BY target"
            )
        }
        return Facets(states, targets, store.serial)


def revisions_mark(store: StoreBase) -> int:
    """The highest row id of the recorded revisions: changes when one is added
    (read from the end of the table's B-tree, not by counting)."""
    row = store.connection.execute("SELECT coalesce(max(rowid), 0) FROM revisions").fetchone()
    return int(row[0])


def label_index(store: StoreBase) -> LabelIndex:
    """Read every revision's labels once (one pass over the revisions)."""
    found: dict[str, dict[str, set[str]]] = {}
    with store._read() as conn:
        mark = revisions_mark(store)
        every = frozenset(row[0] for row in conn.execute("SELECT fingerprint FROM revisions"))
        for fingerprint, key, value in conn.execute(
            "SELECT r.fingerprint, l.key, l.value FROM revisions r,"
            " json_each(r.spec, '$.metadata.labels') l"
        ):
            found.setdefault(str(key), {}).setdefault(str(value), set()).add(fingerprint)
    labels = {k: {v: frozenset(fps) for v, fps in vs.items()} for k, vs in found.items()}
    return LabelIndex(mark, labels, every)


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


__all__ = [
    "SUBMITTING",
    "Facets",
    "JobFilter",
    "JobPage",
    "LabelIndex",
    "RevisionSet",
    "facets",
    "label_index",
    "page_jobs",
    "revisions_mark",
]
