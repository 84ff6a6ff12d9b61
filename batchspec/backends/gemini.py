"""The Gemini Developer API's batches, through google-genai with an API key.

`target: genai` with `genai.api: gemini` sends `batches.create` to the Gemini
Developer API instead of Vertex AI. What differs from the Vertex path, and why
this is a helper of `GenaiBackend` rather than a backend of its own (the
target and the protocol are the same):

* The API key is read from the environment (the variable the spec names in
  `genai.apiKeyEnv`, else the one $BATCHSPEC_GEMINI_KEY_ENV names, for a
  process that only reads jobs, else google-genai's own GEMINI_API_KEY /
  GOOGLE_API_KEY) when a client is made; it is never written to a spec, a body, a plan, state
  or a log. A missing key is a clear permanent error naming the variable.
* Batches have no labels. batchspec's fingerprint rides at the end of the
  display name (`batchspec.compile.identity`), so exactly-once submission
  lists the account's batches and adopts the one whose display name carries
  the fingerprint, as on Vertex with a label filter.
* Names are `batches/ID`, with no project or location. `GenaiBackend` reads,
  cancels and deletes them through the shared Google backend machinery,
  with this client.
* Results come back in the batch (inline responses, or a Files API file), not
  in Cloud Storage: `outputs` names the responses file when there is one.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from batchspec.backends.base import choose_adopted
from batchspec.backends.cloud import matches
from batchspec.backends.google_errors import (
    CallContext,
    ServiceCaller,
    translating,
    with_context,
)
from batchspec.compile.identity import display_fingerprint
from batchspec.errors import PermanentBackendError
from batchspec.model.jobs import (
    LABEL_FINGERPRINT,
    LABEL_MANAGED_BY,
    MANAGED_BY_VALUE,
    CompiledJob,
    RemoteJob,
)

API_HOST = "generativelanguage.googleapis.com"
BASE_URL_ENV = "BATCHSPEC_GEMINI_BASE_URL"
KEY_ENV_ENV = "BATCHSPEC_GEMINI_KEY_ENV"
DEFAULT_KEY_ENVS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
BATCH_PREFIX = "batches/"


def is_gemini_name(name: str) -> bool:
    """True for a Gemini Developer API batch name (`batches/ID`)."""
    return name.startswith(BATCH_PREFIX)


def key_env_of(job: CompiledJob) -> str | None:
    """The environment variable the job's spec names for its API key."""
    settings = job.spec.spec.genai
    return settings.api_key_env if settings is not None else None


class GeminiBatches:
    """batches.create/get/list/cancel/delete on the Gemini Developer API."""

    service = "Gemini Developer API (google-genai)"

    def __init__(
        self,
        calls: ServiceCaller,
        *,
        env: Mapping[str, str],
        base_url: str | None = None,
        timeout: float = 60.0,
        page_size: int = 100,
    ) -> None:
        self.calls = calls
        self.env = env
        self.base_url = base_url
        self.timeout = timeout
        self.page_size = page_size
        self.key_env: str | None = env.get(KEY_ENV_ENV) or None
        self._clients: dict[str, Any] = {}

    def _key_names(self) -> tuple[str, ...]:
        return (self.key_env,) if self.key_env else DEFAULT_KEY_ENVS

    def client(self) -> Any:
        """The google-genai client for the key in the environment (made once per variable)."""
        names = self._key_names()
        name = next((n for n in names if self.env.get(n)), None)
        if name is None:
            raise PermanentBackendError(
                f"{self.service}: no API key in the environment",
                hint="set " + " or ".join(f"${n}" for n in names) + " (the key is read from"
                " the environment at call time and never stored)",
            )
        if name not in self._clients:
            from google import genai
            from google.genai import types

            options = types.HttpOptions(
                base_url=self.base_url,
                timeout=int(self.timeout * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            )
            self._clients[name] = genai.Client(api_key=self.env[name], http_options=options)
        return self._clients[name]

    def ctx(self, action: str, **flags: bool) -> CallContext:
        """What was being attempted, for error messages."""
        base = CallContext(self.service, action, API_HOST, "an API key of the project")
        return with_context(base, **flags)

    def submit(self, backend: str, job: CompiledJob, fp: str) -> RemoteJob:
        """Adopt the batch carrying `fp` in its display name, or create it once."""
        self.key_env = key_env_of(job) or self.key_env
        find = translating(
            lambda: choose_adopted(self.pages(backend, {LABEL_FINGERPRINT: fp})),
            self.ctx("list batches"),
        )
        create = translating(
            lambda: self._create(backend, job), self.ctx("create a batch", create=True)
        )

        def attempt() -> RemoteJob:
            found = find()  # after a lost answer the batch may exist: list first
            return found if found is not None else create()

        return self.calls.run(attempt)

    def _create(self, backend: str, job: CompiledJob) -> RemoteJob:
        from batchspec.secrets import resolve

        body: dict[str, Any] = resolve(copy.deepcopy(dict(job.body)))
        created = self.client().batches.create(
            model=body["model"], src=body["src"], config=body.get("config")
        )
        return remote_from_gemini(backend, created)

    def pages(self, backend: str, selector: Mapping[str, str] | None) -> Iterator[RemoteJob]:
        """Every batch whose batchspec labels (from its display name) include `selector`."""
        ctx = self.ctx("list batches")
        token: str | None = None
        while True:
            config: dict[str, Any] = {"page_size": self.page_size}
            if token:
                config["page_token"] = token

            def fetch(config: dict[str, Any] = config) -> Any:
                return self.client().batches.list(config=config)

            pager = self.calls.call(fetch, ctx)
            for item in pager.page:
                remote = remote_from_gemini(backend, item)
                if matches(remote.labels, selector):
                    yield remote
            token = pager.config.get("page_token")
            if not token:
                return

    def outputs(self, backend: str, name: str) -> list[str]:
        """The Files API file holding the responses, when the batch wrote one."""
        found = self.calls.call(
            lambda: self.client().batches.get(name=name), self.ctx(f"get {name}")
        )
        dest = getattr(found, "dest", None)
        file_name = getattr(dest, "file_name", None) if dest is not None else None
        return [file_name] if file_name else []


def remote_from_gemini(backend: str, job: Any) -> RemoteJob:
    """A google-genai `BatchJob` from the Gemini Developer API as a RemoteJob."""
    from batchspec.backends.cloud import remote_from_vertex

    display, fp = display_fingerprint(job.display_name or "")
    labels = {LABEL_MANAGED_BY: MANAGED_BY_VALUE, LABEL_FINGERPRINT: fp} if fp else {}
    data: dict[str, Any] = {
        "name": job.name or "",
        "displayName": display,
        "state": job.state,
        "createTime": job.create_time,
        "startTime": getattr(job, "start_time", None),
        "endTime": job.end_time,
        "labels": labels,
    }
    return remote_from_vertex(backend, data)


__all__ = ["GeminiBatches", "is_gemini_name", "key_env_of", "remote_from_gemini"]
