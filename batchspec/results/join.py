"""Join outputs back to the inputs they came from.

Output order never matches input order (NOTES.md), so records are matched by
key:

* with a keyField, the input's key is `instance[keyField]` and Vertex writes
  it as `key` (ML Engine models pass it through as an output named `key`);
* without one, the key is the instance itself (its canonical JSON), which
  Vertex echoes as `instance`.

Every input comes out exactly once: PREDICTED, FAILED (an error line names
it) or MISSING (nothing does: an aggregated errors_stats count, a crash).
Outputs that match no input come out as UNMATCHED, after the inputs.
Duplicate inputs are matched to outputs one for one, in order.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from typing import Any

from batchspec.results.records import JoinedRecord, Outcome, ResultRecord


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def input_key(instance: Any, key_field: str | None) -> Any:
    """The key an input instance is known by in the outputs."""
    if key_field and isinstance(instance, dict):
        return instance.get(key_field)
    return instance


def output_key(record: ResultRecord, key_field: str | None) -> Any:
    """The key an output record carries (None when it names no instance)."""
    if record.key is not None:
        return record.key
    if record.instance is None:
        return None
    return input_key(record.instance, key_field)


Index = tuple[str, Any]
_SCALARS = (str, int, float, bool)


def _index(value: Any) -> Index:
    """An exact, hashable form of a key: scalars as themselves (tagged by type,
    so 1, 1.0 and True stay apart), anything else as canonical JSON."""
    if value is None or isinstance(value, _SCALARS):
        return (type(value).__name__, value)
    return ("json", _canonical(value))


def join_inputs(
    records: Iterable[ResultRecord],
    instances: Iterable[Any],
    *,
    key_field: str | None = None,
) -> Iterator[JoinedRecord]:
    """Each input instance with its prediction or error (see the module docstring)."""
    inputs = list(instances)
    # Keys may come back re-typed (a BigQuery INT64 read as text, a CSV cell):
    # match exactly first, then on the plain string form.
    exact: dict[Index, deque[int]] = defaultdict(deque)
    loose: dict[str, deque[int]] = defaultdict(deque)
    for i, instance in enumerate(inputs):
        key = input_key(instance, key_field)
        exact[_index(key)].append(i)
        loose[str(key)].append(i)
    matched: dict[int, ResultRecord] = {}
    unmatched: list[ResultRecord] = []
    for record in records:
        key = output_key(record, key_field)
        slot = _take(exact, loose, key, matched) if key is not None else None
        if slot is None:
            unmatched.append(record)
        else:
            matched[slot] = record
    for i, instance in enumerate(inputs):
        key = input_key(instance, key_field) if key_field else None
        found = matched.get(i)
        if found is None:
            yield JoinedRecord(key, instance, outcome=Outcome.MISSING)
        elif found.error is not None:
            yield JoinedRecord(
                key, instance, error=found.error, outcome=Outcome.FAILED, source=found.source
            )
        else:
            yield JoinedRecord(key, instance, prediction=found.prediction, source=found.source)
    for record in unmatched:
        yield JoinedRecord(
            output_key(record, key_field),
            record.instance,
            prediction=record.prediction,
            error=record.error,
            outcome=Outcome.UNMATCHED,
            source=record.source,
        )


def _take(
    exact: dict[Index, deque[int]],
    loose: dict[str, deque[int]],
    key: Any,
    matched: dict[int, ResultRecord],
) -> int | None:
    for queue in (exact.get(_index(key)), loose.get(str(key))):
        while queue:
            slot = queue.popleft()
            if slot not in matched:
                return slot
    return None


def summarize(joined: Iterable[JoinedRecord]) -> dict[str, int]:
    """Counts per outcome (for a one-line report)."""
    counts = {outcome.value: 0 for outcome in Outcome}
    for record in joined:
        counts[record.outcome.value] += 1
    return counts


__all__ = ["input_key", "join_inputs", "output_key", "summarize"]
