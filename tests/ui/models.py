"""Models the ui tests run on the local engine (imported by its workers)."""

from __future__ import annotations

import os
import time
from typing import Any


def slow_label(instances: list[Any]) -> list[dict[str, Any]]:
    """A class and a score per instance, one batch every SLOW_SECONDS: a job
    that runs long enough for a page to watch its progress bar move."""
    time.sleep(float(os.environ.get("SLOW_SECONDS", "0.1")))
    out = []
    for inst in instances:
        n = int(inst["n"])
        out.append({"label": ["cat", "dog", "bird"][n % 3], "score": (n % 100) / 100})
    return out
