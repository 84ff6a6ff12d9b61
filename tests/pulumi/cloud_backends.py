"""Backends for the provider tests that talk to the REST double of Vertex AI.

`BATCHSPEC_BACKEND_VERTEX=tests.pulumi.cloud_backends:vertex` puts one behind
the Pulumi provider, as a site would plug in its own backend."""

from __future__ import annotations

import os
from typing import Any

URL_ENV = "BATCHSPEC_TEST_VERTEX_URL"
PROJECT = "proj-123456"
REGION = "us-central1"


def vertex() -> Any:
    """A VertexBackend on the double's URL, anonymous credentials, REST transport."""
    from google.auth.credentials import AnonymousCredentials

    from batchspec.backends.vertex import VertexBackend

    return VertexBackend(
        PROJECT, REGION, credentials=AnonymousCredentials(), api_endpoint=os.environ[URL_ENV]
    )
