"""The live web app: a Starlette application over one state file.

    GET /                        the jobs list (filters and page in the URL)
    GET /api/jobs                the same page as JSON (the list polls it)
    GET /jobs/{id}               one job
    GET /api/jobs/{id}           its live row and timeline as JSON
    GET /api/jobs/{id}/plots     its plots (and files) as JSON
    GET /static/{file}           app.css, app.js, plotly.min.js (from Plotly's wheel)

State reads run on the reader's one thread; output files and the local
engine's folders are read on Starlette's worker threads, so a slow disk
never holds the state up.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from batchspec.errors import BatchspecError
from batchspec.state.records import utc_now
from batchspec.ui import assets
from batchspec.ui.detail import JobDetail, load_detail
from batchspec.ui.listing import (
    STATES,
    FacetCache,
    QueryError,
    build_listing,
    parse_query,
)
from batchspec.ui.live import LiveView
from batchspec.ui.outputs import JobOutputs, SampleCache, job_outputs
from batchspec.ui.render import render
from batchspec.ui.schedules import Schedules, SpecSchedules
from batchspec.ui.security import Guard, Policy
from batchspec.ui.source import StateReader

SORT_NAMES = (("name", "name"), ("newest", "newest first"), ("updated", "recently updated"))
TARGETS = ("local", "vertex", "genai", "mlengine", "ray")
NO_STORE = {"cache-control": "no-store"}


@dataclass
class Context:
    """What every handler shares."""

    reader: StateReader
    live: LiveView = field(default_factory=LiveView)
    schedules: Schedules = field(default_factory=SpecSchedules)
    samples: SampleCache = field(default_factory=SampleCache)
    facets: FacetCache = field(default_factory=FacetCache)
    now: Callable[[], datetime] = utc_now

    @property
    def where(self) -> str:
        """The state file, for the page header."""
        return f"state {self.reader.label}"


def _job_link(item: Any) -> str:
    return f"/jobs/{item.id}"


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def _page(ctx: Context, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page of the app: its template with the shared header and assets."""
    html = render(template, assets=assets.live_assets(), home="/", where=ctx.where, **context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _error_page(ctx: Context, status: int, message: str, hint: str | None = None) -> HTMLResponse:
    return _page(ctx, "error.html", status, title=f"{status}", message=message, hint=hint)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class Handlers:
    """The routes, bound to one context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def _listing(self, request: Request) -> Any:
        query = parse_query(_params(request))
        ctx = self.ctx
        return await ctx.reader.run(
            lambda store: build_listing(store, query, ctx.live, ctx.now(), ctx.facets)
        )

    async def jobs_page(self, request: Request) -> Response:
        try:
            listing = await self._listing(request)
        except QueryError as exc:
            return _error_page(self.ctx, 400, exc.message, exc.hint)
        f = listing.query.filter
        targets = sorted(set(TARGETS) | set(listing.targets))
        return _page(
            self.ctx,
            "jobs.html",
            title="Jobs",
            listing=listing,
            f=f,
            states=STATES,
            targets=targets,
            sorts=SORT_NAMES,
            label_text=" ".join(k if v is None else f"{k}={v}" for k, v in f.labels),
            filtered=bool(listing.query.params(page=1)),
            api_url=listing.query.url("/api/jobs"),
            job_link=_job_link,
        )

    async def jobs_json(self, request: Request) -> Response:
        try:
            listing = await self._listing(request)
        except QueryError as exc:
            return JSONResponse({"error": exc.message, "hint": exc.hint}, 400, headers=NO_STORE)
        return JSONResponse(listing.to_json(), headers=NO_STORE)

    async def _detail(self, request: Request) -> JobDetail | None:
        job_id = int(request.path_params["job_id"])
        ctx = self.ctx
        return await ctx.reader.run(lambda store: load_detail(store, job_id, ctx.live, ctx.now()))

    async def _outputs(self, detail: JobDetail) -> JobOutputs:
        ctx = self.ctx
        return await run_in_threadpool(
            job_outputs, detail.record, detail.run_records, ctx.live, ctx.samples
        )

    def _missing(self, request: Request) -> Response:
        message = f"no job #{request.path_params['job_id']} in this state"
        if _wants_json(request):
            return JSONResponse({"error": message}, 404, headers=NO_STORE)
        return _error_page(self.ctx, 404, message, "the jobs list shows every recorded job")

    async def job_page(self, request: Request) -> Response:
        detail = await self._detail(request)
        if detail is None:
            return self._missing(request)
        outputs = await self._outputs(detail)
        schedule = self.ctx.schedules.view(
            detail.name,
            detail.revision.spec if detail.revision else {},
            detail.runs,
            self.ctx.now(),
        )
        return _page(
            self.ctx,
            "job.html",
            title=detail.name,
            detail=detail,
            outputs=outputs,
            schedule=schedule,
            figures_url=f"/api/jobs/{detail.record.id}/plots",
            job_link=_job_link,
        )

    async def job_json(self, request: Request) -> Response:
        detail = await self._detail(request)
        if detail is None:
            return self._missing(request)
        return JSONResponse(detail.live_json(), headers=NO_STORE)

    async def plots_json(self, request: Request) -> Response:
        detail = await self._detail(request)
        if detail is None:
            return self._missing(request)
        outputs = await self._outputs(detail)
        files = [{"path": f.path, "kind": f.kind, "size": f.size} for f in outputs.files]
        body = {"figures": outputs.figures_json(), "files": files, "problem": outputs.problem}
        return JSONResponse(body, headers=NO_STORE)

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        try:
            data = assets.static_bytes(name)
        except KeyError:
            return Response("not found\n", 404, media_type="text/plain")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        cache = "public, max-age=31536000, immutable" if "v" in request.query_params else "no-cache"
        return Response(data, media_type=f"{kind}; charset=utf-8", headers={"cache-control": cache})


def create_app(
    reader: StateReader,
    *,
    token: str | None = None,
    loopback_only: bool = True,
    live: LiveView | None = None,
    schedules: Schedules | None = None,
    now: Callable[[], datetime] = utc_now,
) -> Any:
    """The ASGI application (Starlette behind the security guard)."""
    ctx = Context(
        reader=reader, live=live or LiveView(), schedules=schedules or SpecSchedules(), now=now
    )
    h = Handlers(ctx)

    async def not_found(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": "not found"}, 404, headers=NO_STORE)
        return _error_page(ctx, 404, f"nothing at {request.url.path}", "start from the jobs list")

    async def refused(request: Request, exc: Exception) -> Response:
        # The state file went missing, unreadable or locked under us: say so.
        message = getattr(exc, "message", str(exc))
        hint = getattr(exc, "hint", None)
        if _wants_json(request):
            return JSONResponse({"error": message, "hint": hint}, 503, headers=NO_STORE)
        return _error_page(ctx, 503, message, hint)

    async def failed(request: Request, exc: Exception) -> Response:
        message = f"internal error: {type(exc).__name__}"
        if _wants_json(request):
            return JSONResponse({"error": message}, 500, headers=NO_STORE)
        return _error_page(ctx, 500, message, "this is a bug in batchspec; the server log has more")

    routes = [
        Route("/", h.jobs_page),
        Route("/api/jobs", h.jobs_json),
        Route("/jobs/{job_id:int}", h.job_page),
        Route("/api/jobs/{job_id:int}", h.job_json),
        Route("/api/jobs/{job_id:int}/plots", h.plots_json),
        Route("/static/{name}", h.static),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        reader.close()

    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, BatchspecError: refused, 500: failed},
        lifespan=lifespan,
    )
    return Guard(app, Policy(csp=assets.live_csp(), token=token, loopback_only=loopback_only))
