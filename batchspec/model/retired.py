"""Services batchspec still compiles for but no longer submits to.

Cloud ML Engine (the legacy AI Platform Prediction, `ml` v1) was shut down on
2025-01-31: "Legacy AI Platform Prediction: deprecated July 26, 2023;
shutdown January 31, 2025" (https://cloud.google.com/ai-platform/prediction/
docs/deprecations). batchspec keeps it as a compile target and an import
source, so old job bodies and `gcloud ml-engine jobs submit prediction`
scripts can be read, checked and ported, but `validate` warns on such specs
(BS295) and `plan`/`apply`/`reconcile` do not submit them unless asked to
(`--allow-retired`), since the call could only fail.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple


class Retirement(NamedTuple):
    """When a service stopped, where that is written, and what to do instead."""

    target: str
    service: str
    deprecated: date
    shutdown: date
    source: str
    way_forward: str

    def notice(self) -> str:
        """`Cloud ML Engine ... was shut down on 2025-01-31 (source)`."""
        return f"{self.service} was shut down on {self.shutdown.isoformat()} ({self.source})"


RETIRED: dict[str, Retirement] = {
    "mlengine": Retirement(
        target="mlengine",
        service="Cloud ML Engine (the legacy AI Platform Prediction)",
        deprecated=date(2023, 7, 26),
        shutdown=date(2025, 1, 31),
        source="https://cloud.google.com/ai-platform/prediction/docs/deprecations",
        way_forward="port it to Vertex AI (`batchspec render SPEC --target vertex` shows the"
        " request it becomes; `batchspec import` converts old job bodies and gcloud commands)",
    ),
}


def retirement(target: str | None) -> Retirement | None:
    """The retirement of the service behind `target` (a Target value), if it was retired."""
    return RETIRED.get(target or "")
