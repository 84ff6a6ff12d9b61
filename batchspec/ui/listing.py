"""The jobs list: a query from the URL, one page of rows, filter menus.

The URL holds the whole query (`?state=RUNNING&target=local&label=team=demo
&q=iris&page=2`), so a filtered page can be bookmarked, shared and reloaded,
and the page's script polls the same query as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from batchspec.errors import BatchspecError
from batchspec.model.enums import JobState
from batchspec.state.pages import (
    SORTS,
    SUBMITTING,
    Facets,
    JobFilter,
    LabelIndex,
    facets,
    label_index,
    page_jobs,
    revisions_mark,
)
from batchspec.state.store import StateStore
from batchspec.ui.live import LiveView
from batchspec.ui.rows import JobRow, job_row

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_SIZE = 50
STATES = (*(s.value for s in JobState if s is not JobState.UNSPECIFIED), SUBMITTING)
SCOPES = ("current", "all")


class QueryError(BatchspecError):
    """A jobs-list URL the list cannot answer (shown as a 400 with the reason)."""


@dataclass(frozen=True)
class ListQuery:
    """A parsed jobs-list query."""

    filter: JobFilter = field(default_factory=JobFilter)
    page: int = 1
    size: int = DEFAULT_SIZE

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """URL parameters of this query (with `changes` applied), defaults left out."""
        f = self.filter
        page = changes.get("page", self.page)
        out: list[tuple[str, str]] = []
        if f.scope != "current":
            out.append(("scope", f.scope))
        out += [("state", s) for s in f.states]
        out += [("target", t) for t in f.targets]
        out += [("label", k if v is None else f"{k}={v}") for k, v in f.labels]
        if f.search:
            out.append(("q", f.search))
        if f.sort != "name":
            out.append(("sort", f.sort))
        if page != 1:
            out.append(("page", str(page)))
        if self.size != DEFAULT_SIZE:
            out.append(("size", str(self.size)))
        return out

    def url(self, path: str = "/", **changes: Any) -> str:
        """`path?query` for links (pagination keeps the filters)."""
        query = urlencode(self.params(**changes))
        return f"{path}?{query}" if query else path


def _one(values: Sequence[str], name: str, default: str) -> str:
    """The one value of a parameter; empty (an unused form field) is the default."""
    if len(values) > 1:
        raise QueryError(f"`{name}` is given {len(values)} times; give it once")
    return values[0] if values and values[0] else default


def _number(text: str, name: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"`{name}` must be a whole number, not {text!r}") from None
    if value < low:
        raise QueryError(f"`{name}` must be at least {low}, not {value}")
    return value


def parse_query(params: Mapping[str, Sequence[str]]) -> ListQuery:
    """A ListQuery from URL parameters (name -> every value given)."""
    known = {"scope", "state", "target", "label", "q", "sort", "page", "size"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise QueryError(
            f"unknown parameter {unknown[0]!r}", hint=f"known: {', '.join(sorted(known))}"
        )
    states = tuple(dict.fromkeys(s.upper() for s in params.get("state", ()) if s))
    bad = [s for s in states if s not in STATES]
    if bad:
        raise QueryError(f"unknown state {bad[0]!r}", hint=f"known: {', '.join(STATES)}")
    scope = _one(params.get("scope", ()), "scope", "current")
    if scope not in SCOPES:
        raise QueryError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    sort = _one(params.get("sort", ()), "sort", "name")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    labels = []
    # The form sends one text field ("team=demo stage" and empty when unused).
    for text in (t for given in params.get("label", ()) for t in given.split()):
        key, eq, value = text.partition("=")
        if not key.strip():
            raise QueryError(f"label filter {text!r} needs a key: `key=value` or `key`")
        labels.append((key.strip(), value.strip() if eq else None))
    size = _number(_one(params.get("size", ()), "size", str(DEFAULT_SIZE)), "size", 1)
    if size not in PAGE_SIZES:
        raise QueryError(f"size must be one of {', '.join(map(str, PAGE_SIZES))}, not {size}")
    return ListQuery(
        filter=JobFilter(
            scope=scope,
            states=states,
            targets=tuple(dict.fromkeys(t for t in params.get("target", ()) if t)),
            labels=tuple(labels),
            search=_one(params.get("q", ()), "q", "").strip(),
            sort=sort,
        ),
        page=_number(_one(params.get("page", ()), "page", "1"), "page", 1),
        size=size,
    )


@dataclass
class Listing:
    """One page of the jobs list with everything its template needs."""

    query: ListQuery
    rows: list[JobRow]
    total: int
    states: dict[str, int]
    targets: dict[str, int]
    label_keys: list[str]
    serial: int

    @property
    def pages(self) -> int:
        """How many pages the filtered list has (at least one)."""
        return max(1, -(-self.total // self.query.size))

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when none)."""
        return 0 if not self.rows else (self.query.page - 1) * self.query.size + 1

    @property
    def last(self) -> int:
        """Number of the last row shown."""
        return self.first + len(self.rows) - 1 if self.rows else 0

    def to_json(self) -> dict[str, Any]:
        """The JSON form the page's script polls."""
        return {
            "serial": self.serial,
            "total": self.total,
            "page": self.query.page,
            "pages": self.pages,
            "size": self.query.size,
            "first": self.first,
            "last": self.last,
            "states": self.states,
            "targets": self.targets,
            "rows": [r.to_json() for r in self.rows],
        }


class FacetCache:
    """Filter-menu counts and the label index, read again only when state
    changed (counts: after any write; labels: after a new revision), since
    they scan every job or every revision: too slow to repeat on each poll."""

    def __init__(self) -> None:
        self._facets: dict[str, Facets] = {}
        self._labels: LabelIndex | None = None

    def facets(self, store: StateStore, scope: str, serial: int) -> Facets:
        """State and target counts over `scope`."""
        found = self._facets.get(scope)
        if found is None or found.serial != serial:
            found = self._facets[scope] = facets(store, scope)
        return found

    def labels(self, store: StateStore) -> LabelIndex:
        """Every revision's labels."""
        if self._labels is None or self._labels.mark != revisions_mark(store):
            self._labels = label_index(store)
        return self._labels


def build_listing(
    store: StateStore,
    query: ListQuery,
    live: LiveView,
    now: datetime,
    cache: FacetCache | None = None,
) -> Listing:
    """Read one page and lay the engine's live status over its running jobs."""
    cache = cache or FacetCache()
    index = cache.labels(store)
    where = query.filter
    if where.labels:
        where = replace(where, revisions=index.matching(where.labels))
    page = page_jobs(store, where, offset=(query.page - 1) * query.size, limit=query.size)
    if not page.records and page.total and query.page > 1:  # past the end: the last page
        last = max(1, -(-page.total // query.size))
        return build_listing(store, replace(query, page=last), live, now, cache)
    menus = cache.facets(store, query.filter.scope, page.serial)
    rows = [
        job_row(r, now=now, live=live.status(r), labels=page.labels.get(r.fingerprint))
        for r in page.records
    ]
    return Listing(
        query=query,
        rows=rows,
        total=page.total,
        states=menus.states,
        targets=menus.targets,
        label_keys=index.keys,
        serial=page.serial,
    )
