"""keyField / includedFields / excludedFields / instanceType, as Vertex AI defines them."""

from __future__ import annotations

import pytest

from batchspec.engine.instances import FieldConfig, object_shaper, row_shaper


def cfg(key=None, inc=None, exc=(), typ=None) -> FieldConfig:  # type: ignore[no-untyped-def]
    return FieldConfig(key, tuple(inc) if inc else None, frozenset(exc), typ)


def test_plain_values_pass_through_untouched() -> None:
    shape = object_shaper(cfg())
    v = {"a": 1}
    assert shape(v) == (v, "instance", v)
    assert shape([1, 2]) == ([1, 2], "instance", [1, 2])


def test_key_is_taken_out_and_carried_as_key() -> None:
    shape = object_shaper(cfg(key="id"))
    assert shape({"id": 7, "text": "hi"}) == ({"text": "hi"}, "key", 7)
    with pytest.raises(ValueError, match="no key field 'id'"):
        shape({"text": "x"})
    with pytest.raises(ValueError, match="not an object"):
        shape([1, 2])


def test_excluded_fields_are_not_sent_but_kept_in_the_output_instance() -> None:
    shape = object_shaper(cfg(exc=["email"]))
    v = {"email": "e", "x": 1}
    assert shape(v) == ({"x": 1}, "instance", v)


def test_included_fields_and_array_type() -> None:
    assert object_shaper(cfg(inc=["b", "a"]))({"a": 1, "b": 2, "c": 3})[0] == {"b": 2, "a": 1}
    assert object_shaper(cfg(inc=["b", "a"], typ="array"))({"a": 1, "b": 2})[0] == [2, 1]
    with pytest.raises(ValueError, match="includedFields"):
        object_shaper(cfg(inc=["z"]))({"a": 1})
    with pytest.raises(ValueError, match="needs includedFields"):
        object_shaper(cfg(typ="array"))({"a": 1})
    with pytest.raises(ValueError, match="instanceType object"):
        object_shaper(cfg(typ="object"))([1])


def test_csv_rows_are_arrays_without_the_key_column() -> None:
    shape = row_shaper(cfg(key="id"), ["id", "x", "y"])
    assert shape(["k", 1.0, 2.0]) == ([1.0, 2.0], "key", "k")
    plain = row_shaper(cfg(), ["x", "y"])
    assert plain([1.0, 2.0]) == ([1.0, 2.0], "instance", [1.0, 2.0])
    picked = row_shaper(cfg(inc=["y", "x"]), ["x", "y", "z"])
    assert picked([1.0, 2.0, 3.0])[0] == [2.0, 1.0]
    dropped = row_shaper(cfg(exc=["z"]), ["x", "y", "z"])
    assert dropped([1.0, 2.0, 3.0]) == ([1.0, 2.0], "instance", [1.0, 2.0, 3.0])


def test_csv_rows_as_objects() -> None:
    shape = row_shaper(cfg(key="id", typ="object"), ["id", "x"])
    assert shape(["k", 1.0]) == ({"x": 1.0}, "key", "k")


def test_csv_settings_naming_missing_columns_fail_up_front() -> None:
    with pytest.raises(
        ValueError, match=r"keyField names column\(s\) 'id'.*the CSV header.*columns: x, y"
    ):
        row_shaper(cfg(key="id"), ["x", "y"])
