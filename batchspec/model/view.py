"""Read-only views of a checked spec document: what the rules read, without pydantic.

`batchspec validate` of one spec should start in a few times Python's own
start-up, and importing pydantic and building the spec models costs more than
that alone. What the rules need of a valid document is its values under the
models' attribute names, with the models' defaults, enums and numbers. A
view gives exactly that, built from the structure schema
(`batchspec/data/structure.v1.schema.json`, generated from the models by
`scripts/regen-schema`): one class per model, named like it, with the
behaviour the rules call (`ways()`, `deadline_seconds`, ...) mixed in from
`batchspec.model.behaviour`, which the pydantic models inherit too.

Building a view checks the document against that schema on the way (types,
required and unknown keys, enums, ranges, patterns: the few keywords the
schema uses; `_node` refuses to compile any other, so a model change that
adds one fails the tests). A JSON Schema library would do the same check,
but the quickest, jsonschema-rs, costs half of the start-up budget to import
(it loads email, socket and decimal), and the check is only half the work:
the view must be built anyway. Where a value is not surely what pydantic
accepts and reads the same way (a whole number written `3.0`, NaN, a
duration past its bound, anything unexpected), `view` raises `UnsureError`
and the caller asks pydantic, which words every diagnostic.

tests/validate/test_fastlane.py holds every view equal to its pydantic
model, attribute by attribute and type by type, on every rule case, and has
hypothesis change valid documents at random to look for a value views take
and pydantic refuses.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any, Final

from batchspec.model import enums
from batchspec.model.viewbase import STRUCTURE_SCHEMA, View
from batchspec.model.viewvalues import (
    Convert,
    UnsureError,
    array_of,
    bounded,
    enum_member,
    exactly,
    mapping_of,
    number_value,
    text_value,
    unchanged,
    whole_number,
)

DURATION_MARK: Final = "x-batchspec-duration"  # a duration's bound, which JSON Schema cannot say

_SNAKE: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NULL: Final = {"type": "null"}


def view(model: str, data: Any) -> Any:
    """The view of `data` as the structure schema's `$defs[model]`; `UnsureError`
    unless pydantic surely accepts it and reads it the same way."""
    return _views().convert(model)(data)


def snake(key: str) -> str:
    """The model attribute behind a camelCase key (the models' alias is
    pydantic's `to_camel` of the attribute)."""
    return _SNAKE.sub("_", key).lower()


@cache
def structure_schema() -> dict[str, Any]:
    """The structure schema, read once."""
    loaded: dict[str, Any] = json.loads(STRUCTURE_SCHEMA.read_text(encoding="utf-8"))
    return loaded


@cache
def _views() -> _Views:
    from batchspec.model.behaviour import BEHAVIOURS

    return _Views(structure_schema()["$defs"], BEHAVIOURS)


class _Views:
    """Converters for every model of the schema, compiled once."""

    def __init__(self, defs: dict[str, Any], behaviours: Mapping[str, type]) -> None:
        self.defs = defs
        self.behaviours = behaviours
        self.compiled: dict[str, Convert] = {}
        self.classes: dict[str, type[View]] = {}
        self.compiling: set[str] = set()

    def convert(self, name: str) -> Convert:
        """The converter of `$defs[name]`, compiled when first called: a
        document compiles only the models it holds (a job never needs the
        Model document's, nor most runners')."""
        compiled = self.compiled
        found = compiled.get(name)
        if found is not None:
            return found
        slot: list[Convert] = []  # the converter once compiled: no lookup per value after

        def first(value: Any) -> Any:
            if not slot:
                slot.append(self._compile(name))
            return slot[0](value)

        return first

    def _compile(self, name: str) -> Convert:
        found = self.compiled.get(name)
        if found is None:
            node = self.defs[name]
            self.compiling.add(name)
            try:
                is_enum = "enum" in node
                found = enum_member(getattr(enums, name)) if is_enum else self._model(name, node)
            finally:
                self.compiling.discard(name)
            self.compiled[name] = found
        return found

    def _ref(self, name: str) -> Convert:
        """The converter of a model a compiled model refers to: compiled with
        it (a document that holds the one holds the other, but for a few
        optional blocks), so no call of `convert`'s stand-in stands between
        a value and its converter; the stand-in only where the model is
        being compiled (a model refers to itself) or picked by a tag."""
        return self.convert(name) if name in self.compiling else self._compile(name)

    def _model(self, name: str, node: dict[str, Any]) -> Convert:
        """A model's builder: the defaults pydantic would fill in first (one
        dict update for the constant ones), then each key written, converted
        where a converter is needed; a view keeps its document for
        `model_fields_set`."""
        required = set(node.get("required", ()))
        constant: dict[str, Any] = {}
        made: list[tuple[str, str, Callable[[], Any]]] = []
        plan: dict[str, tuple[str, Convert | None]] = {}
        for key, prop in node["properties"].items():
            # interned, as the names code reads attributes by are: a lookup in
            # a view's `__dict__` then matches by identity, not by comparing text
            attr, convert = sys.intern(snake(key)), self._property(prop)
            plan[key] = (attr, None if convert is unchanged else convert)
            if key not in required:
                make, fixed = self._missing(prop, convert)
                if fixed:
                    constant[attr] = make()
                else:
                    made.append((key, attr, make))
        needed = frozenset(required)
        bases = (self.behaviours[name], View) if name in self.behaviours else (View,)
        namespace = {
            "_keys": tuple((attr, key) for key, (attr, _) in plan.items()),
            "_attrs": {key: attr for key, (attr, _) in plan.items()},
            "_written": {},  # each model its own
        }
        cls = type(name, bases, namespace)
        self.classes[name] = cls
        new = object.__new__

        def build(data: Mapping[Any, Any]) -> Any:  # any keys: checked here, not by the type
            if type(data) is not dict or not needed.issubset(data):
                raise UnsureError("not a mapping with every required key")
            obj: View = new(cls)
            values = obj.__dict__
            values.update(constant)
            for key, value in data.items():
                attr, convert = plan.get(key) or _unknown(key)
                values[attr] = value if convert is None else convert(value)
            for key, attr, make in made:
                if key not in data:
                    values[attr] = make()
            values["_data"] = data
            return obj

        return build

    def _property(self, prop: dict[str, Any]) -> Convert:
        convert = self._node(prop)
        bound = prop.get(DURATION_MARK)
        if bound is None:
            return convert
        longest, most = bound["maxLength"], bound["maxSeconds"]

        def duration(value: Any) -> Any:
            value = convert(value)
            if value is not None and (len(value) > longest or _seconds(value) > most):
                raise UnsureError("a duration past its bound")
            return value

        return duration

    def _node(self, node: dict[str, Any], *, nullable: bool = False) -> Convert:
        """A checking converter for one schema node: the value as pydantic
        holds it, or `UnsureError` wherever it does not surely satisfy the
        node (None passes when `nullable`: text and numbers check it in the
        same call, the most common fields)."""
        if nullable and node.get("type") in _ONE_CALL and "$ref" not in node:
            self._node(node)  # what it checks, or why it cannot
            if node["type"] == "string":
                return text_value(node, nullable=True)
            return bounded(
                whole_number if node["type"] == "integer" else number_value, node, nullable=True
            )
        if nullable:
            inner = self._node(node)
            return lambda value: None if value is None else inner(value)
        unknown = set(node) - _READ
        if unknown:  # a schema change views would not check: fail the tests, not a user
            raise ValueError(f"views do not check {sorted(unknown)}")
        if "$ref" in node:
            return self._ref(node["$ref"].rsplit("/", 1)[-1])
        if "anyOf" in node:
            return self._nullable(node["anyOf"])
        if "oneOf" in node:
            return self._tagged(node)
        kind = node.get("type")
        if kind == "array":
            return array_of(self._node(node.get("items", {})), node.get("minItems", 0))
        if kind == "object":
            extra = node.get("additionalProperties")
            return mapping_of(self._node(extra) if isinstance(extra, dict) else unchanged)
        if kind in ("integer", "number"):
            return bounded(whole_number if kind == "integer" else number_value, node)
        if kind == "string":
            return text_value(node)
        if kind == "boolean":
            return exactly(bool)
        if kind is None and len(set(node) - {"default"}) == 0:
            return unchanged  # any value (pydantic's Any)
        raise ValueError(f"views do not read {node}")

    def _nullable(self, options: list[dict[str, Any]]) -> Convert:
        kept = [o for o in options if o != _NULL]
        if len(kept) != 1:
            raise ValueError(f"a union views cannot read: {options}")
        return self._node(kept[0], nullable=len(kept) != len(options))

    def _tagged(self, node: dict[str, Any]) -> Convert:
        tag = node["discriminator"]["propertyName"]
        mapping = node["discriminator"]["mapping"]
        by_tag = {value: self.convert(ref.rsplit("/", 1)[-1]) for value, ref in mapping.items()}

        def pick(value: Any) -> Any:
            chosen = value.get(tag) if type(value) is dict else None
            found = by_tag.get(chosen) if type(chosen) is str else None
            if found is None:
                raise UnsureError(f"no known `{tag}`")
            return found(value)

        return pick

    def _missing(self, prop: dict[str, Any], convert: Convert) -> tuple[Callable[[], Any], bool]:
        """What pydantic fills in for a key not written, and whether it is a
        constant: the default as declared (converted only for enums, whose
        default is a member), or what its default factory makes (an empty
        model, list or mapping), new for each document."""
        if "default" in prop:
            default = prop["default"]
            if _is_enum(prop, self.defs) and default is not None:
                member = convert(default)
                return (lambda: member), True
            if isinstance(default, list | dict):
                from copy import deepcopy  # few fields have one: not at start-up

                return (lambda: deepcopy(default)), False
            return (lambda: default), True
        if "$ref" in prop:
            empty = self._ref(prop["$ref"].rsplit("/", 1)[-1])
            return (lambda: empty({})), False
        made = {"array": list, "object": dict}.get(prop.get("type", ""))
        if made is None:
            raise ValueError(f"no default for an optional property: {prop}")
        return made, False


def _is_enum(prop: dict[str, Any], defs: dict[str, Any]) -> bool:
    for option in prop.get("anyOf", [prop]):
        ref = option.get("$ref")
        if ref and "enum" in defs[ref.rsplit("/", 1)[-1]]:
            return True
    return False


_ONE_CALL: Final = ("string", "integer", "number")  # nullable ones checked in one call

# The keywords of the structure schema views check (`_node` refuses others).
_READ: Final = {
    *("type", "default", "anyOf", "oneOf", "discriminator", "$ref", "properties"),
    *("required", "additionalProperties", "items", "minItems", "const", "enum"),
    *("minimum", "maximum", "exclusiveMinimum", "pattern", DURATION_MARK),
}


def _unknown(key: object) -> tuple[str, Convert | None]:
    raise UnsureError(f"unknown key {key!r}")


@lru_cache(maxsize=1024)
def _seconds(text: str) -> int:
    """A duration's seconds, remembered: a tree's specs write the same few
    deadlines, and parsing one costs more than the rest of its check."""
    from batchspec.model.limits import duration_seconds

    return duration_seconds(text)


__all__ = ["DURATION_MARK", "STRUCTURE_SCHEMA", "UnsureError", "View", "snake", "view"]
