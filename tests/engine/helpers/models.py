"""Tiny Python models for engine tests (imported by worker processes as
`tests.engine.helpers.models:<name>`)."""

from __future__ import annotations

import os
import time
from typing import Any


def echo(instances: list[Any]) -> list[Any]:
    """The instance itself."""
    return [{"echo": inst} for inst in instances]


def length(instances: list[Any]) -> list[int]:
    """len(text) of each instance."""
    return [len(inst["text"] if isinstance(inst, dict) else str(inst)) for inst in instances]


def fail_on_bad(instances: list[Any]) -> list[Any]:
    """Raises for any batch holding an instance whose text contains 'bad'."""
    for inst in instances:
        text = inst.get("text", "") if isinstance(inst, dict) else str(inst)
        if "bad" in text:
            raise ValueError(f"cannot score {text!r}")
    return [{"ok": True} for _ in instances]


def one_short(instances: list[Any]) -> list[Any]:
    """Breaks the contract: one prediction too few."""
    return [0] * (len(instances) - 1)


def not_json(instances: list[Any]) -> list[Any]:
    """Predictions that cannot be written as JSON for 'odd' instances."""
    return [object() if "odd" in str(inst) else 1 for inst in instances]


def numpy_out(instances: list[Any]) -> Any:
    """A numpy array, as many models return."""
    import numpy as np

    return np.arange(len(instances), dtype=np.int64) * 2


def slow(instances: list[Any]) -> list[Any]:
    """A slow, deterministic model (kill tests need jobs that take a while)."""
    time.sleep(float(os.environ.get("SLOW_SECONDS", "0.02")))
    return [{"n": inst["n"] * 2} if isinstance(inst, dict) else inst for inst in instances]


def pid(instances: list[Any]) -> list[int]:
    """Which process served the batch (one model per worker)."""
    return [os.getpid()] * len(instances)


class Scaler:
    """A class model with constructor arguments."""

    loads = 0

    def __init__(self, factor: float = 1.0) -> None:
        Scaler.loads += 1
        self.factor = factor

    def predict(self, instances: list[Any]) -> list[float]:
        return [inst["x"] * self.factor for inst in instances]


class BrokenInit:
    """A model whose constructor fails."""

    def __init__(self) -> None:
        raise RuntimeError("weights file missing")

    def predict(self, instances: list[Any]) -> list[Any]:
        return instances


class NeedsExtra:
    """A model whose dependency (an extra) is not installed."""

    def __init__(self) -> None:
        raise ImportError("No module named 'onnxruntime'", name="onnxruntime")

    def predict(self, instances: list[Any]) -> list[Any]:
        return instances


class CountingLoads:
    """Appends its pid to $LOADS_FILE each time it is loaded."""

    def __init__(self) -> None:
        with open(os.environ["LOADS_FILE"], "a") as fh:
            fh.write(f"{os.getpid()}\n")

    def predict(self, instances: list[Any]) -> list[int]:
        return [os.getpid()] * len(instances)


def die_once(instances: list[Any]) -> list[Any]:
    """SIGKILLs its own worker the first time ($DIE_MARKER records it), like
    the kernel's OOM killer would; later calls work."""
    import signal

    marker = os.environ["DIE_MARKER"]
    if os.environ.get("DIE_ALWAYS") or not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return [1] * len(instances)
