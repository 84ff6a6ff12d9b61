"""Styles and scripts: served by the app, inlined into the report.

plotly.js comes from Plotly's wheel (`plotly/package_data/plotly.min.js`),
so neither the app nor the report reaches a CDN. The live app serves the
files under `/static/` with a strict Content-Security-Policy (scripts and
styles only from itself); the report inlines them and pins each inline
block by its sha256 in a CSP `<meta>`, so the file stays just as strict
when it is opened from disk or a CI artifact.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from markupsafe import Markup

from batchspec.errors import BatchspecError

STATIC = ("app.css", "app.js")
PLOTLY = "plotly.min.js"
# plotly.js adds its own style rules at run time (an empty <style> element it
# fills through CSSOM, and style attributes); under `style-src 'self'` Chromium
# blocks them, logs errors and the mode bar loses its styling. Styles are
# therefore allowed inline; scripts stay strict (only our own files, or in
# the report only the inline blocks pinned by hash), so injected markup still
# cannot run anything.
STYLE_SRC_EXTRA = "'unsafe-inline'"


def _package_text(name: str) -> str:
    return resources.files("batchspec.ui").joinpath("static", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def plotly_path() -> Path:
    """plotly.min.js inside the installed Plotly wheel."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")  # found, not imported: only its file is needed
    if spec is None or spec.origin is None:
        raise BatchspecError(
            "the plots need Plotly's JavaScript, which comes with the ui extra",
            hint="pip install 'batchspec[ui]'",
        )
    path = Path(spec.origin).resolve().parent / "package_data" / PLOTLY
    if not path.is_file():
        raise BatchspecError(
            f"Plotly's wheel has no {PLOTLY} at {path}",
            hint="reinstall plotly: pip install --force-reinstall plotly",
        )
    return path


@lru_cache(maxsize=8)
def static_bytes(name: str) -> bytes:
    """A file the app serves under /static/ (read once)."""
    if name == PLOTLY:
        return plotly_path().read_bytes()
    if name not in STATIC:
        raise KeyError(name)
    return _package_text(name).encode("utf-8")


@lru_cache(maxsize=8)
def version(name: str) -> str:
    """A short content hash for cache-busting URLs (plotly.js is 4.8 MB: hashed once)."""
    return hashlib.sha256(static_bytes(name)).hexdigest()[:12]


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _inline_safe(text: str, tag: str) -> str:
    """Text that cannot end its `<tag>` element early (`</script` inside a
    string literal is written `<\\/script`, which means the same to JS)."""
    return text.replace(f"</{tag}", f"<\\/{tag}").replace(f"</{tag.upper()}", f"<\\/{tag.upper()}")


def live_csp() -> str:
    """The app's policy: everything from itself only; no inline script."""
    return (
        "default-src 'none'; script-src 'self'; "
        f"style-src 'self' {STYLE_SRC_EXTRA}; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@dataclass(frozen=True)
class Assets:
    """How a page gets its styles and scripts."""

    mode: str  # "live" or "static"
    inline: bool
    css_url: str = ""
    script_urls: tuple[str, ...] = ()
    css: Markup = field(default_factory=Markup)
    scripts: tuple[Markup, ...] = field(default_factory=tuple)
    csp_meta: str = ""


@lru_cache(maxsize=1)
def live_assets() -> Assets:
    """Links to /static/ (versioned URLs, so browsers may cache them)."""
    return Assets(
        mode="live",
        inline=False,
        css_url=f"/static/app.css?v={version('app.css')}",
        script_urls=(
            f"/static/{PLOTLY}?v={version(PLOTLY)}",
            f"/static/app.js?v={version('app.js')}",
        ),
    )


def inline_assets() -> Assets:
    """Everything inlined, each block pinned by hash in the page's own CSP."""
    css = _inline_safe(_package_text("app.css"), "style")
    scripts = [
        _inline_safe(plotly_path().read_text(encoding="utf-8"), "script"),
        _inline_safe(_package_text("app.js"), "script"),
    ]
    hashes = " ".join(_csp_hash(s) for s in scripts)
    csp = (
        f"default-src 'none'; script-src {hashes}; style-src {STYLE_SRC_EXTRA}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return Assets(
        mode="static",
        inline=True,
        css=Markup(css),
        scripts=tuple(Markup(s) for s in scripts),
        csp_meta=csp,
    )
