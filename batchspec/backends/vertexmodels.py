"""Vertex AI's model registry through google-cloud-aiplatform's ModelServiceClient:
what apply needs to upload a `kind: Model` revision exactly once.

* `find(version)`: `models.get` of `projects/P/locations/L/models/ID@ALIAS`
  (the revision's alias names exactly one version; aiplatform v1
  `GetModelRequest.name`: "In order to retrieve a specific version of the
  model, also provide the version ID or version alias"); None on 404.
* `pending(model)`: the model's unfinished operations
  (`models.operations.list`): an upload whose answer was lost shows no
  version until its operation ends, so a caller waits for these before it
  concludes that nothing was uploaded.
* `upload(model)`: `models.upload`, a long-running operation; `modelId`
  for the model's first version, `parentModel` once the model exists (the
  service answers 409 ALREADY_EXISTS to a `modelId` in use).
* `wait(operation)`: polls `operations.get` until done; the operation's
  error is raised as PermanentBackendError.

The backend's endpoint, credentials, timeout and retry policy are reused;
each public method is one call of the backend's retry loop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Protocol, TypeVar

from batchspec.backends.google_errors import CallContext, with_context
from batchspec.errors import JobNotFoundError, PermanentBackendError
from batchspec.model.jobs import CompiledModel

T = TypeVar("T")


class Caller(Protocol):
    """The backend's retry loop (`ServiceCaller`)."""

    def call(self, fn: Callable[[], T], ctx: CallContext) -> T:
        """Run `fn` under the policy, errors mapped with `ctx`."""
        ...


class VertexHost(Protocol):
    """What the model registry borrows from the Vertex AI backend."""

    endpoint: str | None
    credentials: Any
    transport: str
    api_host: str
    role: str
    timeout: float

    @property
    def calls(self) -> Caller:
        """The backend's retry loop."""
        ...

    def _where(self, name: str) -> tuple[str, str | None]: ...


POLL_SECONDS = 2.0
UPLOAD_TIMEOUT = 3600.0  # uploads copy the artifacts; the service takes minutes


@dataclass(eq=False)  # one per backend: identity, not field equality
class VertexModels:
    """The model half of the Vertex AI backend (see the module docstring).
    `sleep` and `poll_seconds` pace the upload operation's polls (tests make
    them instant); `_clients` caches one ModelService client per region."""

    backend: VertexHost
    _: KW_ONLY
    poll_seconds: float = POLL_SECONDS
    sleep: Callable[[float], None] = time.sleep
    upload_timeout: float = UPLOAD_TIMEOUT
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def _client(self, region: str) -> Any:
        from google.cloud import aiplatform_v1

        endpoint = self.backend.endpoint or f"{region}-{self.backend.api_host}"
        if endpoint not in self._clients:
            self._clients[endpoint] = aiplatform_v1.ModelServiceClient(
                credentials=self.backend.credentials,
                transport=self.backend.transport,
                client_options={"api_endpoint": endpoint},
            )
        return self._clients[endpoint]

    def _ctx(self, action: str, name: str, **flags: bool) -> tuple[CallContext, str]:
        project, region = self.backend._where(name)
        assert region is not None
        base = CallContext(
            "Vertex AI", action, self.backend.api_host, self.backend.role, project, region
        )
        return with_context(base, **flags), region

    def find(self, version: str) -> str | None:
        """`projects/P/locations/L/models/ID@VERSION_ID` of the version that
        `version` (`...models/ID@ALIAS`) names, or None when there is none."""
        found = self._version(version)
        return None if found is None else f"{found.name}@{found.version_id}"

    def labels(self, version: str) -> dict[str, str] | None:
        """The labels of the version `version` names, or None when there is none."""
        found = self._version(version)
        return None if found is None else dict(found.labels)

    def _version(self, version: str) -> Any:
        """The Model message of the version `version` names, or None when there is none."""
        ctx, region = self._ctx(f"get model {version}", version, job_read=True)
        client = self._client(region)
        try:
            return self.backend.calls.call(
                lambda: client.get_model(name=version, retry=None, timeout=self.backend.timeout),
                ctx,
            )
        except JobNotFoundError:
            return None

    def exists(self, model: str) -> bool:
        """Whether the model (`projects/P/locations/L/models/ID`) exists."""
        return self.find(model) is not None

    def pending(self, model: str) -> list[str]:
        """Names of the model's unfinished operations (none when no model)."""
        ctx, region = self._ctx(f"list operations of {model}", model, job_read=True)
        client = self._client(region)
        try:
            listed = self.backend.calls.call(
                lambda: client.list_operations(
                    request={"name": model}, retry=None, timeout=self.backend.timeout
                ),
                ctx,
            )
        except JobNotFoundError:
            return []
        return [op.name for op in listed.operations if not op.done]

    def upload(self, model: CompiledModel, *, as_version: bool) -> str:
        """Send the revision's upload request; the operation's name.
        `as_version`: the model exists, so the request names it as
        `parentModel` instead of creating it with `modelId`."""
        from google.cloud import aiplatform_v1

        from batchspec.secrets import resolve

        body: dict[str, Any] = resolve(json.loads(json.dumps(dict(model.body))))
        if as_version:
            body.pop("modelId", None)
            body["parentModel"] = model.resource
        request = aiplatform_v1.UploadModelRequest.from_json(json.dumps(body))
        request.parent = model.parent
        ctx, region = self._ctx(f"upload model {model.name}", model.parent, create=True)
        client = self._client(region)
        operation = self.backend.calls.call(
            lambda: client.upload_model(request=request, retry=None, timeout=self.backend.timeout),
            ctx,
        )
        name: str = operation.operation.name
        return name

    def wait(self, operation: str) -> None:
        """Poll the operation until it is done; PermanentBackendError when it
        failed or did not end within the upload timeout."""
        ctx, region = self._ctx(f"get operation {operation}", operation)
        client = self._client(region)
        waited = 0.0
        while True:
            op = self.backend.calls.call(
                lambda: client.get_operation(
                    request={"name": operation}, retry=None, timeout=self.backend.timeout
                ),
                ctx,
            )
            if op.done:
                if op.error.code:
                    raise PermanentBackendError(
                        f"Vertex AI: upload {operation} failed: {op.error.message}",
                        hint="check the image URI, the artifact folder and that the service"
                        " agent can read them",
                    )
                return
            if waited >= self.upload_timeout:
                raise PermanentBackendError(
                    f"Vertex AI: upload {operation} not done after {waited:.0f}s",
                    hint="apply again later: batchspec waits for it before uploading again",
                )
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds


__all__ = ["POLL_SECONDS", "VertexModels"]
