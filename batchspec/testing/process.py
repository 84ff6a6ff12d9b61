"""Waiting for readiness, never for time: child processes read line by line,
and polling with a bounded deadline.

A fixed `sleep(1.0)` before signalling a child passes on an idle laptop and
fails on a loaded CI runner (the child had not installed its handler yet).
Tests instead wait for what the child promises: a line it prints once ready
(`controller ready: ...`), a row it writes, a file it creates.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")
POLL_SECONDS = 0.02
REPO = Path(__file__).resolve().parents[2]


def double_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a `batchspec` child whose local backend is the
    file-backed double keeping its service in `root/service.json`."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        BATCHSPEC_BACKEND_LOCAL="batchspec.testing.files:file_backend_from_env",
        FAKE_BACKEND_FILE=str(root / "service.json"),
    )
    env.pop("FAKE_BACKEND_KILL_AT", None)
    env.pop("FAKE_BACKEND_LISTING", None)
    env.update(extra)
    return env


def run_cli(*argv: str) -> tuple[int, str, str]:
    """One batchspec command in this process: (exit code, stdout, stderr)."""
    from batchspec.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float = 30.0,
    what: str = "condition",
    poll: float = POLL_SECONDS,
) -> T:
    """Call `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


class _Lines:
    """Collects the lines of one stream in a thread (so the pipe never fills)."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    found = regex.search(line)
                    if found:
                        return found
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    why = "the stream closed" if self.closed else f"{timeout:.0f}s passed"
                    raise AssertionError(
                        f"{why} before a line matching {pattern!r}; got:\n" + "\n".join(self.lines)
                    )
                self._cond.wait(left)

    def text(self) -> str:
        self._thread.join(timeout=10)
        with self._cond:
            return "\n".join(self.lines)


class Child:
    """A child process whose stdout and stderr are read line by line as they come."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.stdout = _Lines(self.proc.stdout)
        self.stderr = _Lines(self.proc.stderr)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_for_err(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        """The first stderr line matching `pattern` (fails if the child exits first)."""
        return self.stderr.wait_for(pattern, timeout)

    def wait_for_out(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        """The first stdout line matching `pattern`."""
        return self.stdout.wait_for(pattern, timeout)

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        """Wait for the exit; (code, stdout, stderr)."""
        code = self.proc.wait(timeout=timeout)
        return code, self.stdout.text(), self.stderr.text()

    def kill(self) -> None:
        """SIGKILL if still running (cleanup after a failed assertion)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()
