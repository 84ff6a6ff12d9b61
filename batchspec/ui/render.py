"""Jinja2 templates, autoescaped everywhere.

Every name, label, message and body that reaches a page comes from a spec or
a job, and some of it is written by people who are not the reader: it is
escaped by the template engine (autoescape on for every template, strict
undefined so a typo fails loudly in tests instead of rendering empty).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from batchspec.ui.rows import iso, shown_time


@lru_cache(maxsize=1)
def environment() -> Any:
    """The shared Jinja2 environment (templates are compiled once)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("batchspec.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["when"] = _when
    env.filters["iso"] = iso
    return env


def _when(moment: datetime | None) -> str:
    return shown_time(moment)


def render(template: str, **context: Any) -> str:
    """Render `template` with `context`."""
    return str(environment().get_template(template).render(**context))
