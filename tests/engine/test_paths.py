"""Relative paths, file:// and fsspec URLs, and seed 001's wildcard rules."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from batchspec.engine import paths
from batchspec.engine.errors import InputError


def test_relative_paths_start_at_the_spec_folder(tmp_path: Path) -> None:
    assert paths.resolve("../data/x.jsonl", tmp_path / "specs") == str(tmp_path / "data/x.jsonl")
    assert paths.resolve("/abs/x", tmp_path) == "/abs/x"
    assert paths.resolve("file:///abs/y", tmp_path) == "/abs/y"
    assert paths.resolve("gs://b/p/*", tmp_path) == "gs://b/p/*"


def _files(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_text("x\n")


def test_star_as_whole_name_lists_the_folder_sorted(tmp_path: Path) -> None:
    _files(tmp_path / "in", "b.jsonl", "a.jsonl", ".hidden", "c.txt")
    (tmp_path / "in" / "sub").mkdir()
    got = paths.expand(str(tmp_path / "in" / "*"))
    assert [Path(p).name for p in got] == ["a.jsonl", "b.jsonl", "c.txt"]


def test_star_at_end_of_prefix(tmp_path: Path) -> None:
    _files(tmp_path, "part-1", "part-0", "other")
    got = paths.expand(str(tmp_path / "part-*"))
    assert [Path(p).name for p in got] == ["part-0", "part-1"]


def test_no_match_and_missing_file_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="matches no files"):
        paths.expand(str(tmp_path / "nothing-*"))
    with pytest.raises(InputError, match="does not exist"):
        paths.expand(str(tmp_path / "missing.jsonl"))
    with pytest.raises(InputError, match=r"folder .* does not exist"):
        paths.expand(str(tmp_path / "nofolder" / "*"))


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    _files(tmp_path, "a", "b")
    got = paths.expand_all([str(tmp_path / "b"), str(tmp_path / "*")])
    assert [Path(p).name for p in got] == ["b", "a"]


def test_fsspec_urls_expand_and_open() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe({"/bucket/in/part-0": b"1\n", "/bucket/in/part-1": b"2\n", "/bucket/in/x": b""})
    got = paths.expand("memory://bucket/in/part-*")
    assert got == ["memory://bucket/in/part-0", "memory://bucket/in/part-1"]
    with paths.open_binary(got[1]) as fh:
        assert fh.read() == b"2\n"
    assert paths.file_size(got[0]) == 2


def test_unknown_scheme_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cannot open"):
        paths.expand("nosuchproto://x/y")
