"""Child processes of a runner (model servers, commands): started so they die
with the worker, stopped as a group, and with their output kept in a log
whose tail goes into error messages."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from batchspec.engine.errors import ModelLoadError, os_errors

TAIL_BYTES = 2000


def _die_with_parent() -> None:  # runs in the child between fork and exec
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def preexec() -> Callable[[], None] | None:
    """Linux: the child gets SIGTERM when the worker that started it dies, so a
    SIGKILLed job leaves no model server behind."""
    return _die_with_parent if sys.platform.startswith("linux") else None


def spawn(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Start `command` in its own process group with output going to `log`."""
    with os_errors(
        ModelLoadError,
        missing=f"cannot start {command[0]!r}: no such program",
        hint="check `command` (run from the spec file's folder)",
        failed=f"cannot start {' '.join(command)}",
    ):
        proc = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec(),  # noqa: PLW1509 - runners start no threads
        )
    return proc


def stop(proc: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL it after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    else:  # the leader is gone; its group may not be
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def tail(path: Path) -> str:
    """The last lines a child wrote (for error messages)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = text.strip().splitlines()
    return "\n".join(lines[-15:])


def exit_text(code: int) -> str:
    """`exited with code 3` or `was killed by SIGKILL`."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
