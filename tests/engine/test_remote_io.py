"""fsspec inputs and outputs (memory:// stands in for gs://; the cloud
backends' issue tests gs:// against fake-gcs-server)."""

from __future__ import annotations

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
