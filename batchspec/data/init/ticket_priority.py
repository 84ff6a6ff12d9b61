"""A stand-in model for the starter job: replace it with yours.

batchspec's Python runner calls `predict` with a batch of instances (the
ticket objects, without their key field) and expects one prediction per
instance, in order.
"""

from __future__ import annotations

from typing import Any

URGENT = ("outage", "down", "cannot", "refund", "urgent", "broken")


def predict(instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A priority per ticket from a few words in its text."""
    out = []
    for ticket in instances:
        text = str(ticket.get("text", "")).lower()
        hits = sum(word in text for word in URGENT)
        out.append({"priority": "high" if hits else "normal", "matches": hits})
    return out
