"""The Cloud Storage double keeps the service's promises that fake-gcs-server
does not: create-if-absent, replace-if-unchanged (412 otherwise), noncurrent
versions, exact-generation reads and copies, 403s naming the permission.
Checked through google-cloud-storage, the client batchspec uses."""

from __future__ import annotations

import pytest

from batchspec.testing.gcs import StorageDouble
from tests.remote.conftest import BUCKET

pytest.importorskip("google.cloud.storage")


@pytest.fixture
def bucket(gcs_double: StorageDouble):
    from google.cloud import storage

    return storage.Client().bucket(BUCKET)


def test_create_if_absent_admits_one_writer(bucket) -> None:
    from google.api_core.exceptions import PreconditionFailed

    first = bucket.blob("lock")
    first.upload_from_string(b"one", if_generation_match=0)
    with pytest.raises(PreconditionFailed):
        bucket.blob("lock").upload_from_string(b"two", if_generation_match=0)
    assert bucket.blob("lock").download_as_bytes() == b"one"


def test_replace_if_unchanged(bucket) -> None:
    from google.api_core.exceptions import PreconditionFailed

    blob = bucket.blob("state")
    blob.upload_from_string(b"v1", if_generation_match=0)
    g1 = blob.generation
    blob.upload_from_string(b"v2", if_generation_match=g1)
    assert blob.generation > g1
    with pytest.raises(PreconditionFailed):
        bucket.blob("state").upload_from_string(b"v3", if_generation_match=g1)
    with pytest.raises(PreconditionFailed):
        bucket.blob("state").delete(if_generation_match=g1)
    assert bucket.blob("state").download_as_bytes() == b"v2"


def test_versions_kept_only_with_versioning(gcs_double: StorageDouble) -> None:
    from google.api_core.exceptions import NotFound
    from google.cloud import storage

    gcs_double.create_bucket("versioned", versioning=True)
    client = storage.Client()
    for name in ("versioned", BUCKET):
        blob = client.bucket(name).blob("s")
        blob.upload_from_string(b"old")
        old = blob.generation
        blob.upload_from_string(b"new")
        listed = [b.generation for b in client.list_blobs(name, prefix="s", versions=True)]
        if name == "versioned":
            assert listed == [old, blob.generation]
            assert client.bucket(name).blob("s", generation=old).download_as_bytes() == b"old"
        else:
            assert listed == [blob.generation]
            with pytest.raises(NotFound):
                client.bucket(name).blob("s", generation=old).download_as_bytes()


def test_copy_of_one_generation_and_resumable_upload(bucket) -> None:
    big = bytes(range(256)) * (9 * 4096)  # over 8 MiB: the client uploads resumably
    blob = bucket.blob("s")
    blob.upload_from_string(big, if_generation_match=0)
    old = blob.generation
    kept = bucket.copy_blob(
        bucket.blob("s"), bucket, "kept", source_generation=old, if_generation_match=0
    )
    blob.upload_from_string(b"small", if_generation_match=old)
    assert kept.size == len(big)
    assert bucket.blob("kept").download_as_bytes() == big
    assert bucket.blob("s").download_as_bytes() == b"small"


def test_denied_bucket_names_the_permission(gcs_double: StorageDouble, bucket) -> None:
    from google.api_core.exceptions import Forbidden

    gcs_double.deny(BUCKET)
    with pytest.raises(Forbidden, match=r"storage\.objects\.create"):
        bucket.blob("x").upload_from_string(b"x")


def test_held_upload_commits_only_when_released(gcs_double: StorageDouble, bucket) -> None:
    import threading

    hold = gcs_double.hold("s")
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            bucket.blob("s").upload_from_string(b"x", if_generation_match=0, retry=None)
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=upload)
    thread.start()
    assert hold.started.wait(10)
    assert gcs_double.read(BUCKET, "s") is None
    hold.release(commit=False)
    thread.join(10)
    assert errors and gcs_double.read(BUCKET, "s") is None
