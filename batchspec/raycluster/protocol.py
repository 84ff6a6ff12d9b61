"""What the driver on the cluster tells the client, and how.

The Jobs API gives a client two things about a running job: Ray's own status
(PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED) and the driver's log. Ray's
status cannot say PARTIALLY_SUCCEEDED, nor how many instances are done, so the
driver adds two channels of its own:

* **status lines** in its log: `BATCHSPEC_STATUS {json}`, the engine's status
  record (state, counts, error and hint, and at the end the output files),
  printed on every state change and every few seconds. The client reads the
  last one. Lines printed by actors reach the log prefixed with the actor's
  name, so a model cannot forge one.
* **the exit code**, which `list_jobs` returns for every job in one call:
  0 SUCCEEDED, 10 PARTIALLY_SUCCEEDED, 11 CANCELLED, 1 FAILED. (Ray shows
  a job that exited 10 as FAILED; batchspec reports PARTIALLY_SUCCEEDED.)
"""

from __future__ import annotations

import importlib
from typing import Any

import msgspec

from batchspec.errors import BatchspecError
from batchspec.model.enums import JobState

STATUS_PREFIX = "BATCHSPEC_STATUS "
JOB_ENV = "BATCHSPEC_RAY_JOB"
HOME_ENV = "BATCHSPEC_RAY_HOME"
ENTRYPOINT_MODULE = "batchspec.raycluster"
INSTALL_HINT = "pip install 'batchspec[ray]'"

EXIT_CODES: dict[JobState, int] = {
    JobState.SUCCEEDED: 0,
    JobState.FAILED: 1,
    JobState.PARTIALLY_SUCCEEDED: 10,
    JobState.CANCELLED: 11,
}
EXIT_NOT_RUN = 2  # bad invocation, or another driver holds the job folder
STATES_BY_EXIT = {code: state for state, code in EXIT_CODES.items()}


def status_line(status: dict[str, Any]) -> str:
    """One log line carrying a status record."""
    return STATUS_PREFIX + msgspec.json.encode(status).decode()


def last_status(logs: str) -> dict[str, Any] | None:
    """The last status record in a job's log, or None."""
    end = len(logs)
    while True:
        i = logs.rfind(STATUS_PREFIX, 0, end)
        if i < 0:
            return None
        if i == 0 or logs[i - 1] == "\n":
            stop = logs.find("\n", i)
            text = logs[i + len(STATUS_PREFIX) : stop if stop >= 0 else len(logs)]
            try:
                value = msgspec.json.decode(text)
            except msgspec.DecodeError:  # cut short (the log is still being written)
                value = None
            if isinstance(value, dict):
                return value
        end = i


def without_status(logs: str) -> str:
    """The log as a person reads it: status lines removed."""
    return "".join(
        line for line in logs.splitlines(keepends=True) if not line.startswith(STATUS_PREFIX)
    )


def import_ray(module: str, error: type[BatchspecError], message: str) -> Any:
    """Ray's `module`, imported only when used (Ray is an optional extra), or
    `error(message)` with the install hint: the client and the driver each
    say what of theirs needs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise error(message, hint=INSTALL_HINT) from exc
