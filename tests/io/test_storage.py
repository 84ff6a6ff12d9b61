"""The one path layer: relative paths, file:// and fsspec URLs, seed 001's
wildcard rules, listing, and gcsfs kept per process."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from batchspec.io import storage
from batchspec.io.storage import StorageError


def test_relative_paths_start_at_the_spec_folder(tmp_path: Path) -> None:
    assert storage.resolve("../data/x.jsonl", tmp_path / "specs") == str(tmp_path / "data/x.jsonl")
    assert storage.resolve("/abs/x", tmp_path) == "/abs/x"
    assert storage.resolve("file:///abs/y", tmp_path) == "/abs/y"
    assert storage.resolve("gs://b/p/*", tmp_path) == "gs://b/p/*"


def _files(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_text("x\n")


def test_star_as_whole_name_lists_the_folder_sorted(tmp_path: Path) -> None:
    _files(tmp_path / "in", "b.jsonl", "a.jsonl", ".hidden", "c.txt")
    (tmp_path / "in" / "sub").mkdir()
    got = storage.expand(str(tmp_path / "in" / "*"))
    assert [Path(p).name for p in got] == ["a.jsonl", "b.jsonl", "c.txt"]


def test_star_at_end_of_prefix(tmp_path: Path) -> None:
    _files(tmp_path, "part-1", "part-0", "other")
    got = storage.expand(str(tmp_path / "part-*"))
    assert [Path(p).name for p in got] == ["part-0", "part-1"]


def test_no_match_and_missing_file_are_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="matches no files"):
        storage.expand(str(tmp_path / "nothing-*"))
    with pytest.raises(StorageError, match="does not exist"):
        storage.expand(str(tmp_path / "missing.jsonl"))
    with pytest.raises(StorageError, match=r"folder .* does not exist"):
        storage.expand(str(tmp_path / "nofolder" / "*"))


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    _files(tmp_path, "a", "b")
    got = storage.expand_all([str(tmp_path / "b"), str(tmp_path / "*")])
    assert [Path(p).name for p in got] == ["b", "a"]


def test_fsspec_urls_expand_and_open() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe({"/bucket/in/part-0": b"1\n", "/bucket/in/part-1": b"2\n", "/bucket/in/x": b""})
    got = storage.expand("memory://bucket/in/part-*")
    assert got == ["memory://bucket/in/part-0", "memory://bucket/in/part-1"]
    with storage.open_binary(got[1]) as fh:
        assert fh.read() == b"2\n"
    assert storage.file_size(got[0]) == 2


def test_unknown_scheme_is_an_error() -> None:
    with pytest.raises(StorageError, match="cannot open"):
        storage.expand("nosuchproto://x/y")


def test_list_files_sees_hidden_files_and_a_missing_folder_is_empty(tmp_path: Path) -> None:
    _files(tmp_path / "out", "b", ".a")
    (tmp_path / "out" / "sub").mkdir()
    assert storage.list_files(str(tmp_path / "out") + "/") == [
        str(tmp_path / "out" / ".a"),
        str(tmp_path / "out" / "b"),
    ]
    assert storage.list_files(str(tmp_path / "nothing")) == []


def test_urls_keep_their_scheme() -> None:
    assert storage.with_scheme("gs://b/dir", "b/dir/x") == "gs://b/dir/x"
    assert storage.with_scheme("gcs://b/dir", "b/dir/x") == "gs://b/dir/x"
    assert storage.with_scheme("memory://b", "/b/x") == "memory://b/x"
    assert storage.with_scheme("/local/dir", "/local/dir/x") == "/local/dir/x"
    assert storage.strip_scheme("gs://b/k") == "b/k"
    assert storage.strip_scheme("file:///tmp/x") == "/tmp/x"
    assert storage.is_url("gs://b") and not storage.is_url("file:///x")


def test_write_text_then_read_it_back(tmp_path: Path) -> None:
    target = str(tmp_path / "new" / "f.txt")
    storage.write_text(target, "héllo\n")
    with storage.open_text(target) as fh:
        assert fh.read() == "héllo\n"
    assert storage.file_size(target) == len("héllo\n".encode())


def test_gcs_filesystem_one_per_process_never_caching_listings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gcsfs instances are not fork-safe (the engine forks workers) and a
    listing cache would hide objects another process wrote."""
    pytest.importorskip("gcsfs")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:1")
    fs, inner = storage.filesystem("gs://bucket/dir/x.jsonl")
    assert inner == "bucket/dir/x.jsonl"
    assert storage.filesystem("gs://other/y")[0] is fs
    assert fs.dircache.use_listings_cache is False
    monkeypatch.setattr(storage.os, "getpid", lambda: -1)
    assert storage.filesystem("gs://bucket/z")[0] is not fs, "a forked child gets its own"


def test_missing_filesystem_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_gcsfs(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("gcsfs"):
            raise ImportError("No module named 'gcsfs'", name="gcsfs")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gcsfs)
    monkeypatch.setattr(storage.os, "getpid", lambda: -2)  # not the cached instance
    with pytest.raises(StorageError, match="needs gcsfs") as info:
        storage.open_binary("gs://bucket/x")
    assert info.value.hint == "pip install 'batchspec[gcs]'"
