"""Files are read whole in chunks, up to the size limit and no further."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchspec.load import source


def test_files_larger_than_one_chunk_are_read_whole(tmp_path: Path) -> None:
    body = "".join(f"k{i}: {i}\n" for i in range(source._READ_CHUNK // 4))
    file = tmp_path / "big.yaml"
    file.write_text(body)
    assert len(body) > 2 * source._READ_CHUNK
    assert source.read_text(file) == (body, [])


def test_the_limit_is_exact(tmp_path: Path) -> None:
    file = tmp_path / "limit.yaml"
    file.write_bytes(b"#" * source.MAX_FILE_BYTES)
    assert source.read_text(file)[1] == []
    file.write_bytes(b"#" * (source.MAX_FILE_BYTES + 1))
    text, problems = source.read_text(file)
    assert text is None and [p.code for p in problems] == ["BS005"]


def test_names_found_are_what_str_of_the_path_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "specs" / "sub").mkdir(parents=True)
    for name in ("specs/b.yaml", "specs/a.yml", "specs/sub/c.yaml", "specs/notes.txt"):
        (tmp_path / name).write_text("a: 1\n")
    monkeypatch.chdir(tmp_path)
    tree = ["specs/a.yml", "specs/b.yaml", "specs/sub/c.yaml"]
    assert source.discover_names(["."]) == (tree, [])
    assert source.discover_names(["./specs/", "specs//b.yaml", "specs"]) == (tree, [])
    assert source.discover_names(["specs/./sub", "./specs/a.yml"]) == (
        ["specs/sub/c.yaml", "specs/a.yml"],
        [],
    )
    root = str(tmp_path / "specs" / "sub")
    assert source.discover_names([root + "/"])[0] == [root + "/c.yaml"]
    paths, _ = source.discover(["."])
    assert paths == [Path(name) for name in tree]
