"""fsspec inputs and outputs: memory:// for the store's mechanics, and gs://
against a real fake-gcs-server (tests/emulators.py)."""

from __future__ import annotations

import json

import fsspec
import pytest

from batchspec.engine.errors import OutputError
from batchspec.engine.output import FsspecStore
from batchspec.model.enums import JobState
from tests.engine.conftest import Workspace, python_model, spec_doc


@pytest.fixture
def memfs():  # type: ignore[no-untyped-def]
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs[:] = [""]
    yield fs
    fs.store.clear()


def test_remote_inputs_are_read_whole_file_per_shard(ws: Workspace, memfs) -> None:  # type: ignore[no-untyped-def]
    memfs.pipe(
        {
            "/bucket/in/a.csv": b'"id","x"\n"k1",1\n"k2",2\n',
            "/bucket/in/b.csv": b'"id","x"\n"k3",3,4\n',
        }
    )
    doc = spec_doc(
        model=python_model("tests.engine.helpers.models:echo"),
        input={"format": "CSV", "paths": ["memory://bucket/in/*"], "keyField": "id"},
    )
    job = ws.run(doc)
    assert job.state is JobState.PARTIALLY_SUCCEEDED
    assert job.total_count is None, "remote files are counted while read, not planned"
    assert sorted((r["key"], r["prediction"]["echo"]) for r in ws.lines("results")) == [
        ("k1", [1.0]),
        ("k2", [2.0]),
    ]
    (error,) = ws.lines("errors_stats")
    assert "memory://bucket/in/b.csv:2: too many fields" in error["error"]["message"]


def test_fsspec_store_publishes_whole_files(tmp_path, memfs) -> None:  # type: ignore[no-untyped-def]
    store = FsspecStore("memory://bucket/out", str(tmp_path / "staging"))
    store.prepare()
    assert store.existing() == []
    staged = store.staging_file("prediction.results-00000-of-00001")
    staged.write_bytes(b'{"key": 1}\n')
    assert store.size("prediction.results-00000-of-00001") is None, "nothing before publish"
    store.publish(staged, "prediction.results-00000-of-00001")
    assert not staged.exists()
    assert memfs.cat("/bucket/out/prediction.results-00000-of-00001") == b'{"key": 1}\n'
    assert store.existing() == ["prediction.results-00000-of-00001"]
    assert store.size("prediction.results-00000-of-00001") == 11
    assert store.url("x") == "memory://bucket/out/x"
    store.remove(store.existing())
    assert store.existing() == []
    store.clear_staging()
    assert not (tmp_path / "staging").exists()


def test_fsspec_store_unwritable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    class ReadOnly(fsspec.implementations.memory.MemoryFileSystem):  # type: ignore[misc]
        protocol = "readonlymem"

        def pipe_file(self, path, value, **kw):  # type: ignore[no-untyped-def]
            raise PermissionError(13, "Permission denied")

    fsspec.register_implementation("readonlymem", ReadOnly, clobber=True)
    store = FsspecStore("readonlymem://bucket/out", str(tmp_path / "s"))
    with pytest.raises(OutputError, match="cannot write to the output folder"):
        store.prepare()


def test_gs_inputs_and_outputs(ws: Workspace, gcs, bucket) -> None:  # type: ignore[no-untyped-def]
    gcs.pipe(
        {
            f"{bucket}/in/part-0.jsonl": b'{"id": 1, "text": "ab"}\n{"id": 2, "text": "abc"}\n',
            f"{bucket}/in/part-1.jsonl": b'{"id": 3, "text": "x"}\n{broken\n',
            f"{bucket}/in/other.jsonl": b'{"id": 9, "text": "not read"}\n',
        }
    )
    doc = spec_doc(
        model=python_model("tests.engine.helpers.models:length"),
        input={"format": "JSONL", "paths": [f"gs://{bucket}/in/part-*"], "keyField": "id"},
        output={"path": f"gs://{bucket}/out/"},
    )
    job = ws.run(doc)
    assert job.state is JobState.PARTIALLY_SUCCEEDED, job.error
    names = sorted(p.rsplit("/", 1)[-1] for p in gcs.ls(f"{bucket}/out"))
    assert names == [
        "batchspec-manifest.json",
        "prediction.errors_stats-00000-of-00002",
        "prediction.errors_stats-00001-of-00002",
        "prediction.results-00000-of-00002",
        "prediction.results-00001-of-00002",
    ]
    results = [
        json.loads(line)
        for n in ("00000", "00001")
        for line in gcs.cat(f"{bucket}/out/prediction.results-{n}-of-00002").splitlines()
    ]
    assert sorted((r["key"], r["prediction"]) for r in results) == [(1, 2), (2, 3), (3, 1)]
    error = json.loads(gcs.cat(f"{bucket}/out/prediction.errors_stats-00001-of-00002"))
    assert f"gs://{bucket}/in/part-1.jsonl:2: malformed JSON" in error["error"]["message"]
    assert ws.backend.outputs(job.remote_name)[0].startswith(f"gs://{bucket}/out/")
    again = ws.run(doc, name="again.yaml")
    assert again.remote_name == job.remote_name, "same spec, same job"
