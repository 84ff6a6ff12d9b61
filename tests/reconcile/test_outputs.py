"""Manifest reading and output checks, on files written by the test itself."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from batchspec.reconcile.outputs import (
    MANIFEST_NAME,
    ManifestError,
    check_outputs,
    parse_manifest,
    read_manifest,
)


def write_outputs(folder: Path, files: dict[str, bytes], shape: str = "list") -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    digests = {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
    if shape == "list":
        doc = {
            "files": [{"name": n, "sha256": h, "bytes": len(files[n])} for n, h in digests.items()]
        }
    elif shape == "map":
        doc = {"files": {n: {"sha256": h, "size": len(files[n])} for n, h in digests.items()}}
    else:
        doc = {"outputs": dict(digests.items())}
    raw = json.dumps(doc).encode()
    (folder / MANIFEST_NAME).write_bytes(raw)
    return hashlib.sha256(raw).hexdigest()


FILES = {
    "prediction.results-00000-of-00002": b'{"key": 1, "prediction": 0}\n',
    "prediction.results-00001-of-00002": b'{"key": 2, "prediction": 1}\n',
}


@pytest.mark.parametrize("shape", ["list", "map", "digests"])
def test_every_manifest_shape_reads_the_same(tmp_path: Path, shape: str) -> None:
    digest = write_outputs(tmp_path / "o", FILES, shape)
    manifest = read_manifest(str(tmp_path / "o"))
    assert manifest is not None and manifest.digest == digest
    assert sorted(e.name for e in manifest.entries) == sorted(FILES)
    assert all(len(e.sha256 or "") == 64 for e in manifest.entries)
    assert check_outputs(str(tmp_path / "o"), digest) == []


def test_missing_manifest_is_none_and_bad_manifest_is_an_error(tmp_path: Path) -> None:
    assert read_manifest(str(tmp_path)) is None
    (tmp_path / MANIFEST_NAME).write_text("[1, 2]")
    with pytest.raises(ManifestError):
        read_manifest(str(tmp_path))
    for bad in (b"{", b'{"nofiles": 1}', b'{"files": [{"sha256": "x"}]}', b'{"files": 3}'):
        with pytest.raises(ManifestError):
            parse_manifest(bad)


def test_changes_and_losses_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "o"
    digest = write_outputs(folder, FILES)
    (folder / "prediction.results-00000-of-00002").write_bytes(b'{"key": 1, "prediction": 9}\n')
    (folder / "prediction.results-00001-of-00002").unlink()
    problems = check_outputs(str(folder), digest)
    assert (
        "changed",
        "prediction.results-00000-of-00002 changed (sha256 differs from the manifest)",
    ) in problems
    assert ("missing", "prediction.results-00001-of-00002 is missing") in problems


def test_rewritten_or_lost_manifest_and_lost_folder(tmp_path: Path) -> None:
    folder = tmp_path / "o"
    digest = write_outputs(folder, FILES)
    write_outputs(folder, {**FILES, "extra": b"x"})
    assert ("changed", f"{MANIFEST_NAME} was rewritten after the job succeeded") in check_outputs(
        str(folder), digest
    )
    (folder / MANIFEST_NAME).unlink()
    assert check_outputs(str(folder), digest) == [("missing", f"{MANIFEST_NAME} is gone")]
    assert check_outputs(str(folder), None) == []  # no baseline, no manifest: nothing to say
    assert check_outputs(str(tmp_path / "nowhere"), None)[0][0] == "missing"


def test_bigquery_outputs_are_not_checked() -> None:
    assert check_outputs("bq://project.dataset", "abc") == []


def test_a_plain_manifest_json_is_read_too(tmp_path: Path) -> None:
    digest = write_outputs(tmp_path, FILES)
    (tmp_path / MANIFEST_NAME).rename(tmp_path / "manifest.json")
    manifest = read_manifest(str(tmp_path))
    assert manifest is not None and manifest.digest == digest


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: os.symlink("/dev/zero", p), "character device"),
        (lambda p: os.symlink(p.name, p), "symlink loop"),
        (os.mkfifo, "FIFO"),
        (lambda p: p.mkdir(), "directory"),
    ],
)
def test_things_that_are_not_files_are_never_opened(tmp_path: Path, make, kind: str) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "o"
    digest = write_outputs(folder, FILES)
    shard = folder / "prediction.results-00000-of-00002"
    shard.unlink()
    make(shard)
    assert check_outputs(str(folder), digest) == [
        ("changed", f"prediction.results-00000-of-00002 is a {kind}, not a file")
    ]
    (folder / MANIFEST_NAME).unlink()
    make(folder / MANIFEST_NAME)
    ((what, detail),) = check_outputs(str(folder), digest)
    assert what == "changed" and f"is a {kind}, not a file" in detail


def test_unreachable_storage_is_an_error_not_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gcsfs")
    from batchspec.io import guard
    from batchspec.io.storage import StorageUnreachableError
    from tests.io.servers import refused_endpoint

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", refused_endpoint())
    monkeypatch.setenv(guard.RETRIES_ENV, "1")
    guard.forget_failures()
    with pytest.raises(
        StorageUnreachableError, match=r"^gs://acme-out: cannot .*connection refused"
    ):
        check_outputs("gs://acme-out/results", "abc")
    guard.forget_failures()
