"""Models for the Ray tests, imported by actors (`tests.ray.helpers.models:<name>`
with the repository on `pythonPath`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class CrashOnce:
    """Kills its own process the first time it sees an instance with `boom`
    (a marker file remembers it happened), as an out-of-memory kill would."""

    def __init__(self, marker: str) -> None:
        self.marker = Path(marker)

    def predict(self, instances: list[Any]) -> list[Any]:
        if any(inst.get("boom") for inst in instances) and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)
        return [{"double": inst["n"] * 2} for inst in instances]


def double(instances: list[Any]) -> list[Any]:
    """A deterministic model."""
    return [{"double": inst["n"] * 2} for inst in instances]
