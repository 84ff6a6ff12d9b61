"""The REST double's model registry, through the real google-cloud-aiplatform
ModelServiceClient (REST transport): upload is a long-running operation, the
version shows only when it is done, aliases name versions."""

from __future__ import annotations

import pytest

from batchspec.testing.cloud import CloudDouble
from tests.cloud.conftest import PROJECT, REGION, anonymous

PARENT = f"projects/{PROJECT}/locations/{REGION}"


@pytest.fixture
def client(double: CloudDouble):
    from google.cloud import aiplatform_v1

    return aiplatform_v1.ModelServiceClient(
        credentials=anonymous(), transport="rest", client_options={"api_endpoint": double.url}
    )


def upload(client, alias: str, **request: object):
    from google.cloud import aiplatform_v1

    model = aiplatform_v1.Model(
        display_name="reviews",
        container_spec=aiplatform_v1.ModelContainerSpec(image_uri="us-docker.pkg.dev/p/r/s:1"),
        version_aliases=[alias],
        labels={"managed-by": "batchspec"},
    )
    return client.upload_model(
        request=aiplatform_v1.UploadModelRequest(parent=PARENT, model=model, **request)
    )


def test_upload_then_versions_by_alias(client, double: CloudDouble) -> None:
    from google.api_core import exceptions

    op = upload(client, "bs-aaaa", model_id="reviews")
    with pytest.raises(exceptions.NotFound):  # not there until the operation is done
        client.get_model(name=f"{PARENT}/models/reviews@bs-aaaa")
    done = op.result(timeout=10)
    assert done.model == f"{PARENT}/models/reviews" and done.model_version_id == "1"
    first = client.get_model(name=f"{PARENT}/models/reviews@bs-aaaa")
    assert first.version_id == "1" and "default" in first.version_aliases
    upload(client, "bs-bbbb", parent_model=f"{PARENT}/models/reviews").result(timeout=10)
    second = client.get_model(name=f"{PARENT}/models/reviews@bs-bbbb")
    assert second.version_id == "2"
    versions = client.list_model_versions(name=f"{PARENT}/models/reviews")
    assert sorted(v.version_id for v in versions) == ["1", "2"]
    assert double.model_versions(f"{PARENT}/models/reviews")[0]["labels"] == {
        "managed-by": "batchspec"
    }


def test_a_model_id_in_use_is_already_exists(client) -> None:
    from google.api_core import exceptions

    upload(client, "bs-aaaa", model_id="reviews")  # still uploading
    with pytest.raises(exceptions.Conflict):
        upload(client, "bs-bbbb", model_id="reviews")


def test_a_refused_image_fails_the_operation(client, double: CloudDouble) -> None:
    from google.api_core import exceptions

    double.fail_next_upload("image us-docker.pkg.dev/p/r/s:1 not found")
    op = upload(client, "bs-aaaa", model_id="reviews")
    with pytest.raises(exceptions.GoogleAPICallError, match="not found"):
        op.result(timeout=10)
    assert double.model_versions(f"{PARENT}/models/reviews") == []


def test_deleted_outside_is_gone(client, double: CloudDouble) -> None:
    from google.api_core import exceptions

    upload(client, "bs-aaaa", model_id="reviews").result(timeout=10)
    double.delete_model_from_outside(f"{PARENT}/models/reviews")
    with pytest.raises(exceptions.NotFound):
        client.get_model(name=f"{PARENT}/models/reviews@bs-aaaa")
    assert list(client.list_models(parent=PARENT)) == []
