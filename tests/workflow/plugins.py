"""Backends for the workflow test's subprocesses (BATCHSPEC_BACKEND_<TARGET>):
the production backends, configured from the environment like any other run,
with anonymous credentials for the REST double in place of the ones
google-github-actions/auth would provide."""

from __future__ import annotations

from typing import Any


def _anonymous() -> Any:
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()


def vertex() -> Any:
    from batchspec.backends.vertex import VertexBackend

    return VertexBackend(credentials=_anonymous())


def mlengine() -> Any:
    from batchspec.backends.mlengine import MLEngineBackend

    return MLEngineBackend(credentials=_anonymous())
