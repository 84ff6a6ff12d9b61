"""From input records to what the model receives, and back to the output key.

Follows Vertex AI's `instanceConfig` semantics (NOTES.md, the discovery
document's InstanceConfig):

* `keyField`: the field's value is *not* sent to the model; the output line
  carries it as `key` instead of the instance.
* `includedFields` / `excludedFields`: which fields the model receives; with
  `instanceType: array` the included order is the array order. Without a key
  the output carries the whole original instance (excluded fields included).
* `instanceType`: `object` or `array`. CSV rows and BigQuery rows are arrays
  by default (the header or the table's columns give the names, and the
  order); JSONL lines are sent as they are.

A shaper is built once per job. Called on one instance it raises
`ValueError` with a readable message for an instance it cannot shape, which
the engine writes as an error line; `many` shapes a whole block of cleanly
read instances in a few C-level passes (the engine's fast path), or returns
None, having changed nothing, when some instance needs the one-by-one path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from batchspec.model.spec import InputSpec

# (what the model receives, output field name "key" | "instance", its value)
Shaped = tuple[Any, str, Any]
# (what the model receives, the output field's value) for a block of instances
Columns = tuple[list[Any], list[Any]]


class Shaper:
    """Shapes instances one by one (`shaper(value)`) or a block at once (`many`)."""

    def __init__(
        self,
        one: Callable[[Any], Shaped],
        field: str,
        many: Callable[[list[Any]], Columns | None] | None = None,
    ) -> None:
        self._one = one
        self.field = field  # "key" or "instance", the same for every instance of a job
        self._many = many or self._each

    def __call__(self, value: Any) -> Shaped:
        """What the model receives, the output field's name and value; raises
        ValueError for an instance that cannot be shaped."""
        return self._one(value)

    def many(self, values: list[Any]) -> Columns | None:
        """Every value shaped, as two columns; None (and nothing changed) when
        some value fails, so the caller shapes them one by one to say why."""
        return self._many(values)

    def _each(self, values: list[Any]) -> Columns | None:
        """The generic block form, for shapers that never change their input."""
        try:
            shaped = list(map(self._one, values))
        except ValueError:
            return None
        return [s[0] for s in shaped], [s[2] for s in shaped]


def _same(values: list[Any]) -> Columns:
    return values, values


@dataclass(frozen=True)
class FieldConfig:
    """The instance settings of an input, frozen for the hot loop."""

    key: str | None
    included: tuple[str, ...] | None
    excluded: frozenset[str]
    instance_type: str | None

    @classmethod
    def from_spec(cls, spec: InputSpec) -> FieldConfig:
        """Read the settings from the spec's input section."""
        return cls(
            key=spec.key_field,
            included=tuple(spec.included_fields) if spec.included_fields else None,
            excluded=frozenset(spec.excluded_fields or ()),
            instance_type=spec.instance_type,
        )

    @property
    def transforms(self) -> bool:
        """True when objects are changed before the model sees them."""
        return bool(self.key or self.included or self.excluded or self.instance_type)


def _select(obj: dict[str, Any], cfg: FieldConfig) -> Any:
    """Apply included/excluded fields and the instance type to an object."""
    if cfg.included is not None:
        try:
            values = [obj[f] for f in cfg.included]
        except KeyError as exc:
            raise ValueError(f"instance has no field {exc.args[0]!r} (includedFields)") from None
        if cfg.instance_type == "array":
            return values
        return dict(zip(cfg.included, values, strict=True))
    if cfg.instance_type == "array":
        raise ValueError("instanceType array needs includedFields to order the fields of an object")
    if cfg.excluded:
        return {k: v for k, v in obj.items() if k not in cfg.excluded}
    return obj


def object_shaper(cfg: FieldConfig) -> Shaper:
    """Shaper for values that are usually objects (JSONL, decoded Examples)."""
    key = cfg.key
    if not cfg.transforms:
        return Shaper(lambda value: (value, "instance", value), "instance", _same)

    def shape(value: Any) -> Shaped:
        if not isinstance(value, dict):
            if key is not None:
                raise ValueError(
                    f"instance is a JSON {_kind(value)}, not an object, so it has no key"
                    f" field {key!r}"
                )
            if cfg.instance_type == "object":
                raise ValueError(f"instanceType object: instance is a JSON {_kind(value)}")
            return value, "instance", value
        if key is not None:
            if key not in value:
                raise ValueError(f"instance has no key field {key!r}")
            key_value = value.pop(key)  # the value is fresh from the decoder: no copy
            return _select(value, cfg), "key", key_value
        return _select(value, cfg), "instance", value

    if key is None:  # never changes its input: the generic block form is safe
        return Shaper(shape, "instance")
    if cfg.included is None and not cfg.excluded and cfg.instance_type is None:
        return Shaper(shape, "key", lambda values: _pop_keys(values, key))
    return Shaper(shape, "key", lambda values: None)  # pops keys: one by one


def _pop_keys(values: list[Any], key: str) -> Columns | None:
    """Take `key` out of every object, checking all of them first (a failure
    must leave every object as it was for the one-by-one path)."""
    try:
        if not all(map(dict.__contains__, values, repeat(key))):
            return None
    except TypeError:  # not every value is an object
        return None
    keys = list(map(dict.pop, values, repeat(key)))
    return values, keys


def row_shaper(
    cfg: FieldConfig, header: Sequence[str], *, source: str = "the CSV header"
) -> Shaper:
    """Shaper for CSV rows (lists in header order). Raises ValueError for a
    configuration that names columns the header lacks (the caller turns that
    into a job error: every row would fail)."""
    names = list(header)
    for what, fields in (
        ("keyField", [cfg.key] if cfg.key else []),
        ("includedFields", list(cfg.included or ())),
        ("excludedFields", sorted(cfg.excluded)),
    ):
        missing = [f for f in fields if f not in names]
        if missing:
            raise ValueError(
                f"{what} names column(s) {', '.join(map(repr, missing))} that {source}"
                f" does not have (columns: {', '.join(names)})"
            )
    key_index = names.index(cfg.key) if cfg.key else None
    field = "key" if cfg.key else "instance"
    if cfg.instance_type == "object":
        obj_cfg = FieldConfig(None, cfg.included, cfg.excluded, None)

        def shape_object(row: list[Any]) -> Shaped:
            obj = dict(zip(names, row, strict=True))
            key_value = obj.pop(cfg.key) if cfg.key else None
            inst = _select(obj, obj_cfg)
            return (inst, "key", key_value) if cfg.key else (inst, "instance", row)

        return Shaper(shape_object, field)  # rows are never changed: generic block form
    if cfg.included is not None:
        picks = [names.index(f) for f in cfg.included]
    else:
        picks = [i for i, n in enumerate(names) if i != key_index and n not in cfg.excluded]
    if picks == list(range(len(names))):
        return Shaper(lambda row: (row, "instance", row), "instance", _same)

    def shape_array(row: list[Any]) -> Shaped:
        inst = [row[i] for i in picks]
        if key_index is not None:
            return inst, "key", row[key_index]
        return inst, "instance", row

    return Shaper(shape_array, field, _array_columns(picks, key_index))


def _array_columns(
    picks: list[int], key_index: int | None
) -> Callable[[list[Any]], Columns | None] | None:
    """The block form of `shape_array` when the picked columns are one run
    (a slice per row), else None (the generic form)."""
    if not picks or picks != list(range(picks[0], picks[-1] + 1)):
        return None
    pick = operator.itemgetter(slice(picks[0], picks[-1] + 1))  # row[start:stop], in C

    def columns(rows: list[Any]) -> Columns:
        insts = list(map(pick, rows))
        if key_index is None:
            return insts, rows
        return insts, list(map(operator.itemgetter(key_index), rows))

    return columns


def table_shaper(cfg: FieldConfig, columns: Sequence[str]) -> Shaper:
    """Shaper for BigQuery rows (lists in column order): as CSV rows, except
    that without a key the output names the instance by its row as an object
    (column -> value), which is what a join back to the table compares and
    what a BigQuery destination spreads into columns."""
    shape = row_shaper(cfg, columns, source="the table")
    names = list(columns)

    def shape_row(row: list[Any]) -> Shaped:
        inst, field, ref = shape(row)
        if field == "instance":
            ref = dict(zip(names, row, strict=True))
        return inst, field, ref

    return Shaper(shape_row, shape.field)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else type(value).__name__
