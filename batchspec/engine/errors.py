"""Errors of the local engine, all `EngineError`s so the CLI prints them with a hint.

They split along what the user must fix: the inputs, the outputs, the model
(it does not load, or it breaks its contract with the engine). Per-instance
problems are never exceptions that stop a job: they become error lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from batchspec.errors import EngineError


class InputError(EngineError):
    """The inputs cannot be read at all (missing, no match, unreadable)."""


class OutputError(EngineError):
    """The output location cannot be used (holds results, not writable)."""


class ModelLoadError(EngineError):
    """The model could not be loaded (import, missing extra, checksum, bad file)."""


class ModelContractError(EngineError):
    """The model broke its contract: wrong number of predictions, a server that
    never gets healthy, crashes, or a command that writes no output."""


class InstanceError(Exception):
    """One instance (or one batch, before it is split) failed in the model.

    Raised by runners to choose the error status written to the errors file;
    any other exception from a model counts as `INTERNAL`. `isolate=False`:
    the failure is the request's, not an instance's (a timeout), so the
    batch is not retried instance by instance.
    """

    def __init__(
        self,
        message: str,
        *,
        status: str = "INTERNAL",
        code: int | None = None,
        isolate: bool = True,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.isolate = isolate


EXTRAS = {
    "vaderSentiment": "sentiment",
    "sklearn": "sklearn",
    "joblib": "sklearn",
    "onnxruntime": "onnx",
    "gcsfs": "gcs",
}


def missing_extra_hint(module: str | None) -> str | None:
    """`pip install 'batchspec[extra]'` when `module` belongs to one of our extras."""
    top = (module or "").split(".")[0]
    extra = EXTRAS.get(top)
    return f"pip install 'batchspec[{extra}]'" if extra else None


@contextmanager
def os_errors(error: type[EngineError], *, missing: str, hint: str, failed: str) -> Iterator[None]:
    """OSErrors inside raised as `error`: a missing file as `missing` with `hint`
    (what to check), any other as `failed: <the system's reason>`.

    Reading an input, reading a model file and starting a model's program meet
    the same two cases, and each must end in one clear line, not a traceback."""
    try:
        yield
    except FileNotFoundError:
        raise error(missing, hint=hint) from None
    except OSError as exc:
        raise error(f"{failed}: {exc}") from exc
