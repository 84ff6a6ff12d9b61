"""What a person waits for at the prompt: a <TAB>, `--help`, `--version`, as
ratios against starting the interpreter (`python -c pass`), measured side by
side in one run, wall time beside CPU time of the child processes.

    python -m bench.cli_bench [--rounds N]

A completion request runs exactly as the shell's script runs it: the
`batchspec` entry point with argcomplete's environment, completing job names
from a state file (which it reads without opening a store).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], env: dict[str, str], cwd: Path, rounds: int) -> tuple[float, float]:
    """Mean wall and CPU seconds per run (after one warm-up run)."""
    subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=True)
    cpu0, wall0 = child_cpu(), time.perf_counter()
    for _ in range(rounds):
        subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=True)
    return (time.perf_counter() - wall0) / rounds, (child_cpu() - cpu0) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**os.environ}
        subprocess.run([py, "-m", "batchspec", "init"], cwd=root, check=True, capture_output=True)
        subprocess.run(
            [py, "-m", "batchspec", "apply", "--target", "local", "--yes"],
            cwd=root,
            check=True,
            capture_output=True,
        )
        line = "batchspec get "
        complete_env = {
            **env,
            "_ARGCOMPLETE": "1",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(root / "answer"),
        }
        cases = [
            ("python -c pass (baseline)", [py, "-c", "pass"], env),
            ("batchspec --version", [py, "-m", "batchspec", "--version"], env),
            ("batchspec --help", [py, "-m", "batchspec", "--help"], env),
            ("<TAB> after `batchspec get `", [py, "-m", "batchspec"], complete_env),
        ]
        results = [(name, *measure(argv, e, root, rounds)) for name, argv, e in cases]
    base_wall, base_cpu = results[0][1], results[0][2]
    print(f"{'case':<32} {'wall ms':>8} {'cpu ms':>8} {'x wall':>7} {'x cpu':>7}")
    for name, wall, cpu in results:
        print(
            f"{name:<32} {wall * 1e3:8.1f} {cpu * 1e3:8.1f}"
            f" {wall / base_wall:7.2f} {cpu / base_cpu:7.2f}"
        )


if __name__ == "__main__":
    main()
