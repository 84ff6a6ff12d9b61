"""Instructions executed by a process tree, counted by valgrind's callgrind.

CPU seconds on a shared machine vary by a third between two runs of the same
loop; the instructions a program executes do not (to a fraction of a
percent: Python's hash randomisation and address layout move them a
little), so a 10 % difference is read from instruction counts (Ir).

Every process of the tree writes its own file (`cg.<pid>`). A process forked
without exec (the engine's workers) starts with a copy of its parent's
counters, so each fork would count the parent's past again: `--dump-before=fork`
makes the parent write what it has counted so far (`cg.<pid>.1`, ...) and
start again from zero just before each fork. The sum of every file's
`summary:` line is then the whole tree's count, each instruction once. A
process that execs (`--trace-children=yes`) starts a fresh count under the
same pid; its count before the exec (a few instructions of the fork) is lost.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

VALGRIND = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--dump-before=fork"]
_FILE = re.compile(r"cg\.(\d+)(?:\.\d+)?$")


def available() -> bool:
    """Whether valgrind is on PATH."""
    return shutil.which("valgrind") is not None


def prefix(out_dir: Path) -> list[str]:
    """The valgrind command line that runs a program counted into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [*VALGRIND, "--log-file=/dev/null", f"--callgrind-out-file={out_dir}/cg.%p"]


def wrapper(path: Path, out_dir: Path, python: str) -> Path:
    """An executable that runs `python` counted (for `LocalBackend(python=...)`,
    which starts the engine's supervisor with it). `exec` keeps the pid, so
    the supervisor's file is `cg.<pid of the launch>`."""
    argv = " ".join(shlex.quote(a) for a in [*prefix(out_dir), python])
    path.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
    path.chmod(0o755)
    return path


@dataclass
class Counts:
    """Instructions per process of one counted run."""

    by_pid: dict[int, int] = field(default_factory=dict)
    before_fork: dict[int, int] = field(default_factory=dict)  # counted before the last fork

    @property
    def total(self) -> int:
        return sum(self.by_pid.values())


def read_counts(out_dir: Path) -> Counts:
    """Sum the `summary:` of every file in `out_dir` (one run's), per pid."""
    counts = Counts()
    for path in sorted(out_dir.iterdir()):
        match = _FILE.match(path.name)
        if not match:
            continue
        pid = int(match.group(1))
        ir = _summary(path)
        counts.by_pid[pid] = counts.by_pid.get(pid, 0) + ir
        if path.name != f"cg.{pid}":  # a dump before a fork
            counts.before_fork[pid] = counts.before_fork.get(pid, 0) + ir
    if not counts.by_pid:
        raise RuntimeError(f"valgrind wrote no callgrind files in {out_dir}")
    return counts


def _summary(path: Path) -> int:
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(b"summary:"):
                return int(line.split()[1])
    raise RuntimeError(f"{path} has no summary line (did the process die?)")
