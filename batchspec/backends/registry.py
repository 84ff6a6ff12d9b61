"""Which backend runs which target, imported only when a job needs it.

Each target maps to `module:attribute`, a class or factory callable with no
required arguments that returns a `Backend`. Nothing is imported until a
backend is asked for, so `batchspec validate` and `batchspec plan` (without
`--refresh`) never load google-cloud-*, Ray or the local engine.

Built with no arguments, the cloud backends take everything from the
environment: the project and region they list jobs in (`BATCHSPEC_PROJECT`
or `GOOGLE_CLOUD_PROJECT`, `BATCHSPEC_REGION`), endpoint overrides
(`BATCHSPEC_VERTEX_ENDPOINT`, `BATCHSPEC_GENAI_BASE_URL`,
`BATCHSPEC_MLENGINE_ENDPOINT`) and credentials (Application Default
Credentials, resolved when the first call is made). Each job is still
submitted, read and cancelled in the project and region it names itself.

An environment variable `BATCHSPEC_BACKEND_<TARGET>=module:attribute`
replaces a target's backend: a plug-in point for a site's own backend, and
how the fault tests put a file-backed double behind `batchspec apply`
running in a subprocess.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from typing import cast

from batchspec.backends.base import Backend
from batchspec.errors import PermanentBackendError

BackendFactory = Callable[[], Backend]

# target -> "module:attribute". The module paths are the contract with the
# backend branches; the lead reconciles a class name if one differs.
DEFAULT_BACKENDS: dict[str, str] = {
    "local": "batchspec.backends.local:LocalBackend",
    "ray": "batchspec.backends.ray:RayBackend",
    "vertex": "batchspec.backends.vertex:VertexBackend",
    "genai": "batchspec.backends.genai:GenaiBackend",
    "mlengine": "batchspec.backends.mlengine:MLEngineBackend",
}

_EXTRAS = {
    "vertex": "batchspec[vertex]",
    "genai": "batchspec[vertex]",
    "mlengine": "batchspec[vertex]",
    "ray": "batchspec[ray]",
}

ENV_PREFIX = "BATCHSPEC_BACKEND_"


def _env_override(target: str) -> str | None:
    return os.environ.get(ENV_PREFIX + target.upper()) or None


def load_factory(target: str, ref: str) -> BackendFactory:
    """Import `module:attribute` for `target`, with a clear error when it is missing."""
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise PermanentBackendError(
            f"backend reference {ref!r} for target {target!r} is not `module:attribute`",
            hint=f"set {ENV_PREFIX}{target.upper()} to e.g. `mypackage.backend:MyBackend`",
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get(target)
        missing = exc.name or module_name
        hint = (
            f"install the extra: pip install '{extra}'"
            if extra and not missing.startswith("batchspec")
            else f"this batchspec build has no {target!r} backend (module {module_name})"
        )
        raise PermanentBackendError(
            f"backend for target {target!r} is not available: cannot import {missing}",
            hint=hint,
        ) from exc
    try:
        factory = getattr(module, attribute)
    except AttributeError as exc:
        raise PermanentBackendError(
            f"backend for target {target!r}: {module_name} has no attribute {attribute!r}"
        ) from exc
    return cast(BackendFactory, factory)


class BackendRegistry:
    """Target name -> backend instance, created on first use and then reused."""

    def __init__(self, factories: dict[str, str | BackendFactory] | None = None) -> None:
        self._factories: dict[str, str | BackendFactory] = dict(
            DEFAULT_BACKENDS if factories is None else factories
        )
        self._instances: dict[str, Backend] = {}

    def register(self, target: str, factory: str | BackendFactory) -> None:
        """Use `factory` (or `module:attribute`) for `target` from now on."""
        self._factories[target] = factory
        self._instances.pop(target, None)

    def known(self) -> list[str]:
        """Target names with a registered backend."""
        return sorted(self._factories)

    def __call__(self, target: str) -> Backend:
        """The backend for `target` (created once)."""
        return self.get(target)

    def get(self, target: str) -> Backend:
        """The backend for `target` (created once)."""
        if target in self._instances:
            return self._instances[target]
        ref = _env_override(target) or self._factories.get(target)
        if ref is None:
            raise PermanentBackendError(
                f"no backend is registered for target {target!r}",
                hint="known targets: " + ", ".join(self.known()),
            )
        factory = load_factory(target, ref) if isinstance(ref, str) else ref
        backend = factory()
        if not isinstance(backend, Backend):
            raise PermanentBackendError(
                f"backend for target {target!r} does not implement the Backend protocol"
            )
        self._instances[target] = backend
        return backend

    def instances(self) -> Iterable[tuple[str, Backend]]:
        """Backends created so far."""
        return list(self._instances.items())


BackendProvider = Callable[[str], Backend]
