"""Input snapshots on Cloud Storage (a real fake-gcs-server): an object
rewritten with the same bytes is a change (a new generation), a new object is
a change, a listing seen twice is the same snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from batchspec.io.guard import StorageError
from batchspec.io.snapshot import snapshot

pytestmark = pytest.mark.slow


def test_generations_and_new_objects_change_the_snapshot(
    gcs: Any, bucket: str, tmp_path: Path
) -> None:
    pattern = f"gs://{bucket}/in/part-*"
    with pytest.raises(StorageError, match="matches no files yet"):
        snapshot([pattern], tmp_path)
    gcs.pipe(f"{bucket}/in/part-0.jsonl", b'{"id": 1}\n')
    gcs.pipe(f"{bucket}/in/part-1.jsonl", b'{"id": 2}\n')
    gcs.pipe(f"{bucket}/in/other.jsonl", b'{"id": 3}\n')  # not matched by the pattern
    first = snapshot([pattern], tmp_path)
    assert first.count == 2
    assert snapshot([pattern], tmp_path) == first  # unchanged inputs: the same run key
    gcs.pipe(f"{bucket}/in/part-1.jsonl", b'{"id": 2}\n')  # same bytes, new generation
    rewritten = snapshot([pattern], tmp_path)
    assert rewritten.count == 2 and rewritten.digest != first.digest
    gcs.pipe(f"{bucket}/in/part-2.jsonl", b'{"id": 4}\n')
    grown = snapshot([pattern], tmp_path)
    assert grown.count == 3 and grown.digest not in (first.digest, rewritten.digest)
