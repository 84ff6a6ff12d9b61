"""The driver: the local engine's supervisor, with a pool of Ray actors.

`python -m batchspec.raycluster` is the entrypoint of every Ray job batchspec
submits. It reads the job record from $BATCHSPEC_RAY_JOB, opens (or adopts)
the job's folder on the head node as the local backend does (the engine's
`JobHome`), and runs the engine's supervisor on it with the Ray pool
(`pool.ActorPool`). Everything but the pool is the engine's own: the shard
plan (saved once, reused on resume), the output checks, the error budget,
shard records, the manifest and the terminal state. Two things differ from a
local job: a signal (Ray's `stop_job`) cancels the job instead of pausing
it, and the final status lists the output files, since the client cannot
read the job folder.

Everything the client needs to know is printed as status lines (see
`protocol`), and the exit code carries the final state.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from batchspec.engine.jobdir import JobDir, now_iso
from batchspec.engine.jobhome import JobHome
from batchspec.engine.supervisor import supervise
from batchspec.errors import BatchspecError
from batchspec.model.enums import JobState
from batchspec.raycluster.pool import ActorPool
from batchspec.raycluster.protocol import (
    EXIT_CODES,
    EXIT_NOT_RUN,
    HOME_ENV,
    JOB_ENV,
    status_line,
)

ECHO_EVERY = 2.0  # seconds between progress lines in the job's log
RECORD_KEYS = frozenset({"id", "name", "fingerprint", "body", "specDir", "createTime", "output"})


def default_cluster_home() -> Path:
    """Where job folders live on the head node: $BATCHSPEC_RAY_HOME or ~/.batchspec/ray."""
    return Path(os.environ.get(HOME_ENV) or "~/.batchspec/ray").expanduser()


class EchoJobDir(JobDir):
    """A job folder that also prints its status record into the job's log:
    the one channel that reaches a client wherever it is (see `protocol`)."""

    def __init__(self, path: Path, *, out: TextIO | None = None) -> None:
        super().__init__(path)
        self._out = out
        self._last_echo = 0.0
        self._last_state: Any = None

    def write_status(self, status: dict[str, Any], *, durable: bool = True) -> None:
        """Write the record; print it on a change of state, else every few seconds."""
        super().write_status(status, durable=durable)
        state = status.get("state")
        if durable or state != self._last_state or time.monotonic() - self._last_echo >= ECHO_EVERY:
            self.echo(status)

    def log(self, message: str) -> None:
        """The event log, and the job's log (what `batchspec logs` shows)."""
        super().log(message)
        print(f"{now_iso()} {message}", file=self._out or sys.stdout, flush=True)

    def echo(self, status: dict[str, Any]) -> None:
        """Print one status line now."""
        self._last_echo = time.monotonic()
        self._last_state = status.get("state")
        print(status_line(status), file=self._out or sys.stdout, flush=True)


# --- the entrypoint --------------------------------------------------------------------


def _fail_early(message: str, hint: str | None) -> int:
    """Report a job that could not even be opened (the status line says why)."""
    print(f"error: {message}" + (f"\n  hint: {hint}" if hint else ""), file=sys.stderr)
    status = {
        "state": JobState.FAILED.value,
        "endTime": now_iso(),
        "error": {"message": message, "hint": hint},
    }
    print(status_line(status), flush=True)
    return EXIT_CODES[JobState.FAILED]


def main(argv: list[str] | None = None) -> int:
    """`python -m batchspec.raycluster [--home DIR] [--rerun]`; the job from $BATCHSPEC_RAY_JOB."""
    parser = argparse.ArgumentParser(
        prog="python -m batchspec.raycluster",
        description="Run one batchspec job on the Ray cluster this process is started on"
        " (the entrypoint of the jobs RayBackend submits).",
    )
    parser.add_argument("--home", help="job folders on the head node (default ~/.batchspec/ray)")
    parser.add_argument("--rerun", action="store_true", help="start over a finished job")
    args = parser.parse_args(argv)
    raw = os.environ.get(JOB_ENV)
    if not raw:
        print(f"error: ${JOB_ENV} is not set; RayBackend.submit sets it", file=sys.stderr)
        return EXIT_NOT_RUN
    try:
        record = json.loads(raw)
        missing = sorted(RECORD_KEYS - set(record)) if isinstance(record, dict) else ["all"]
        if missing:
            return _fail_early(
                f"cannot open the job on the cluster: ${JOB_ENV} is not a job record (no"
                f" {', '.join(missing)})",
                "submit jobs with RayBackend.submit (`batchspec run --target ray`)",
            )
        home = Path(args.home).expanduser() if args.home else default_cluster_home()
        path = JobHome(home.resolve() / "jobs").ensure(record, rerun=args.rerun)[0].path
    except BatchspecError as exc:
        return _fail_early(exc.message, exc.hint)
    except (ValueError, KeyError, OSError) as exc:
        return _fail_early(f"cannot open the job on the cluster: {type(exc).__name__}: {exc}", None)
    jd = EchoJobDir(path)
    print(f"{now_iso()} job folder on the cluster: {path}", flush=True)
    jd.echo(jd.read_status())
    state = supervise(jd, pool=ActorPool(), signal_cancels=True, list_outputs=True)
    if state is None:
        print(f"error: another driver is running this job (job folder {path})", file=sys.stderr)
        return EXIT_NOT_RUN
    return EXIT_CODES.get(state, EXIT_CODES[JobState.FAILED])
