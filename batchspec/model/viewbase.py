"""The class every view is made of (`batchspec.model.view` builds one
subclass per model of the structure schema, at run time).

Apart from the builders, which are compiled (`batchspec._native`): a
compiled class cannot be subclassed by `type()` nor mixed with the Python
behaviour classes the pydantic models share (`batchspec.model.behaviour`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Here, not in the compiled module: `__file__` there is not the module's path.
STRUCTURE_SCHEMA = Path(__file__).resolve().parent.parent / "data" / "structure.v1.schema.json"


class View:
    """A checked document's object: the model's attribute names and values.

    `model_fields_set` and `model_dump` answer as pydantic's do for the
    rules that ask (which keys were written; a value as camelCase JSON)."""

    _keys: tuple[tuple[str, str], ...] = ()  # (attribute, key) per field, in schema order
    _attrs: dict[str, str] = {}  # key -> attribute
    _written: dict[tuple[str, ...], frozenset[str]] = {}  # `model_fields_set` by keys
    _data: Mapping[str, Any]  # the document's mapping the view was built from

    @property
    def model_fields_set(self) -> frozenset[str]:
        """The attributes whose keys the document wrote: remembered per
        model by the keys in their order, which the specs of a tree share."""
        keys = tuple(self._data)
        found = self._written.get(keys)
        if found is None:
            found = frozenset(map(self._attrs.__getitem__, keys))
            if len(self._written) < 256:
                self._written[keys] = found
        return found

    def model_dump(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """The view's fields by their keys, nested views as mappings."""
        out = {}
        for attr, key in self._keys:
            value = self.__dict__[attr]
            if value is not None or not exclude_none:
                out[key] = _dump(value, exclude_none)
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{a}={self.__dict__[a]!r}" for a, _ in self._keys)
        return f"{type(self).__name__}({shown})"


def _dump(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, View):
        return value.model_dump(exclude_none=exclude_none)
    if isinstance(value, list):
        return [_dump(item, exclude_none) for item in value]
    if isinstance(value, dict):
        return {key: _dump(item, exclude_none) for key, item in value.items()}
    return value


__all__ = ["STRUCTURE_SCHEMA", "View"]
