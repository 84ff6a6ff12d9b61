"""Large trees: worker processes give the same report as one process, and
memory holds diagnostics, not the tree."""

from __future__ import annotations

import os
import tracemalloc
from concurrent.futures import Future
from pathlib import Path
from typing import SupportsIndex, overload

import pytest

from batchspec.validate import parallel, validate_paths
from batchspec.validate.parallel import (
    CHUNK,
    MAX_CHUNK,
    Wired,
    _unwire,
    _wire,
    check_files,
    chunk_size,
)
from batchspec.validate.validator import FileReport, check_file
from tests.validate.helpers import document, dump


def tree(root: Path, count: int) -> Path:
    """`count` files; every 7th has a mistake, names repeat across chunks."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        name = f"job_{n % (count - CHUNK - 3)}"  # the last files reuse early names
        patch = {"region": "mars-north1"} if n % 7 == 0 else {}
        text = dump(document("vertex", name=name, **patch))
        if n % 11 == 0:
            text += "---\n" + dump(document("vertex", name=f"extra_{n}"))
        (root / f"s{n:05d}.yaml").write_text(text)
    (root / "broken.yaml").write_text("a: [1\n")
    return root


def test_workers_report_exactly_what_one_process_does(tmp_path: Path) -> None:
    root = tree(tmp_path / "specs", 3 * CHUNK + 17)
    serial = validate_paths([str(root)], keep_specs=False, workers=1)
    parallel = validate_paths([str(root)], keep_specs=False, workers=2)
    typed = validate_paths([str(root)])
    assert parallel.diagnostics == serial.diagnostics == typed.diagnostics
    assert parallel.valid == serial.valid == typed.valid == len(typed.specs)
    assert parallel.files == serial.files == typed.files
    # BS302 besides BS211: the model stays in us-central1 when the job moves
    assert {d.code for d in serial.diagnostics} == {"BS002", "BS203", "BS211", "BS302"}
    assert all(d.line is not None for d in serial.diagnostics)
    assert not parallel.specs  # diagnostics only


def peak(root: Path) -> int:
    tracemalloc.start()
    try:
        validate_paths([str(root)], keep_specs=False, workers=1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_tree(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    for root, count in ((small, 100), (large, 800)):
        root.mkdir()
        for n in range(count):
            (root / f"s{n:05d}.yaml").write_text(dump(document("vertex", name=f"job_{n}")))
    peak(small)  # warm caches
    assert peak(large) < 1.5 * peak(small) + 1_000_000


def test_workers_asked_for_a_tree_of_one_file_or_none(tmp_path: Path) -> None:
    root = tree(tmp_path / "one", 0)
    (root / "broken.yaml").unlink()
    assert validate_paths([str(root)], keep_specs=False, workers=2).files == 0
    (root / "a.yaml").write_text(dump(document("vertex", name="a")))
    assert validate_paths([str(root)], keep_specs=False, workers=2).valid == 1


def test_chunks_balance_the_workers_within_bounds() -> None:
    assert chunk_size(200, 2) == CHUNK  # small trees: the fewest files per round trip
    assert chunk_size(100_000, 2) == MAX_CHUNK  # memory holds 2 * workers chunks
    assert CHUNK < chunk_size(3_000, 2) < MAX_CHUNK
    assert chunk_size(3_000, 2) * 8 * 2 <= 3_000  # eight chunks or more per worker


def test_clean_specs_cross_the_pipe_as_names_and_come_back_whole(tmp_path: Path) -> None:
    root = tree(tmp_path / "specs", CHUNK + 4)
    files = sorted(str(p) for p in root.iterdir())
    reports = [check_file(f, keep_specs=False) for f in files]
    wired = [_wire(r) for r in reports]
    assert any(isinstance(w, str) for w in wired)  # clean one-document specs
    assert any(not isinstance(w, str) for w in wired)  # mistakes, two documents, broken YAML
    done: Future[list[Wired]] = Future()
    done.set_result(wired)
    back = list(_unwire(files, done))
    assert [vars_of(r) for r in back] == [vars_of(r) for r in reports]


def vars_of(report: FileReport) -> tuple[object, ...]:
    return report.__reduce__()[1]


def clean_tree(root: Path, count: int) -> list[str]:
    root.mkdir()
    for n in range(count):
        (root / f"s{n:05d}.yaml").write_text(dump(document("vertex", name=f"job_{n}")))
    return sorted(str(p) for p in root.iterdir())


@pytest.mark.parametrize("workers", [2, 3])
def test_this_process_checks_the_chunks_the_pool_is_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    root = tree(tmp_path / "specs", 12 * CHUNK)
    files = sorted(str(p) for p in root.iterdir())
    serial = [vars_of(check_file(f, keep_specs=False)) for f in files]
    here: list[str] = []  # what this process checks (a worker's calls stay in the worker)

    def counted(file: str, *, keep_specs: bool) -> FileReport:
        here.append(file)
        return check_file(file, keep_specs=keep_specs)

    monkeypatch.setattr(parallel, "check_file", counted)
    assert [vars_of(r) for r in check_files(files, workers=workers)] == serial
    size = chunk_size(len(files) - 1, workers)
    # the first file before the fork, then whole chunks; the pool checks the rest
    assert here[0] == files[0]
    assert size <= len(here) - 1 <= len(files) - 1 - 2 * (workers - 1) * size
    assert (len(here) - 1) % size == 0 or files[-1] in here


class Watched(list[str]):
    """Files that count how many of them have been read (by index, as chunks are)."""

    read = 0

    @overload
    def __getitem__(self, index: SupportsIndex) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> str | list[str]:
        stop = index.stop if isinstance(index, slice) else int(index) + 1
        self.read = max(self.read, min(stop, len(self)))
        return super().__getitem__(index)


def test_chunks_held_at_once_are_bounded_however_large_the_tree(tmp_path: Path) -> None:
    files = Watched(clean_tree(tmp_path / "specs", 16 * CHUNK))
    size = chunk_size(len(files) - 1, 2)
    most = 0
    for done, _ in enumerate(check_files(files, workers=2), start=1):
        most = max(most, files.read - done)
    assert files.read == len(files)
    # two chunks per process held, and the one being handed out
    assert 2 * size <= most <= (2 * 2 + 1) * size


def test_forked_and_spawned_workers_report_what_one_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = sorted(str(p) for p in tree(tmp_path / "specs", 3 * CHUNK + 5).iterdir())
    serial = [vars_of(check_file(f, keep_specs=False)) for f in files]
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    assert [vars_of(r) for r in check_files(files, workers=2)] == serial
    monkeypatch.setattr(parallel, "_can_fork", lambda: False)  # threads run, or no fork
    assert [vars_of(r) for r in check_files(files, workers=2)] == serial


@pytest.fixture
def forked_pids(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the workers `check_files` forks, recorded as it closes them
    (forked even when an earlier test left a thread running here)."""
    monkeypatch.setattr(parallel, "_can_fork", lambda: True)
    pids: list[int] = []
    close = parallel._Forked.close

    def recorded(pool: parallel._Forked) -> None:
        pids.extend(w.pid for w in pool.workers)
        close(pool)

    monkeypatch.setattr(parallel._Forked, "close", recorded)
    return pids


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def broken_chunk(files: list[str]) -> list[Wired]:
    raise ValueError(f"cannot check {len(files)} files")


def dead_chunk(files: list[str]) -> list[Wired]:
    os._exit(3)


def test_a_workers_error_is_raised_here_and_every_worker_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked_pids: list[int]
) -> None:
    files = clean_tree(tmp_path / "specs", 6 * CHUNK)
    monkeypatch.setattr(parallel, "_check_chunk", broken_chunk)
    with pytest.raises(ValueError, match="cannot check"):
        list(check_files(files, workers=3))
    assert len(forked_pids) == 2 and all(map(gone, forked_pids))
    monkeypatch.setattr(parallel, "_check_chunk", dead_chunk)
    with pytest.raises(RuntimeError, match="ended before its answer"):
        list(check_files(files, workers=2))
    assert len(forked_pids) == 3 and all(map(gone, forked_pids))


def test_a_caller_that_stops_early_leaves_no_worker_behind(
    tmp_path: Path, forked_pids: list[int]
) -> None:
    files = clean_tree(tmp_path / "specs", 6 * CHUNK)
    reports = check_files(files, workers=2)
    assert next(reports).file == files[0]
    assert next(reports).file == files[1]
    reports.close()
    assert len(forked_pids) == 1 and gone(forked_pids[0])
